//===- MiniMind.cpp - the MiniMind model written with GraphBuilder --------===//
//
// Mirrors MiniMind's PyTorch modules line by line (MINIMIND-SPEC §3), so a
// reader can check the graph against the reference.
//
//===----------------------------------------------------------------------===//

#include "mind/Frontend/MiniMind.h"

#include "mind/Dialect/Mind/IR/MindDialect.h"
#include "mind/Frontend/GraphBuilder.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>

using namespace mlir;
using namespace mind;

namespace {
class MiniMindWriter {
public:
  MiniMindWriter(GraphBuilder &g, const MiniMindConfig &c,
                 const TrainShape &s, const llvm::StringMap<Value> &params)
      : g(g), cfg(c), shape(s), params(params) {}

  /// Returns (loss, aux_loss).
  std::pair<Value, Value> forward(Value ids, Value targets, Value mask) {
    Value h = g.embedding(param("model.embed_tokens.weight"), ids);
    auto [cos, sin] =
        g.ropeTable(shape.seqLen, cfg.headDim(), cfg.ropeTheta,
                    cfg.maxPositionEmbeddings, cfg.ropeScaling());
    Value aux;
    for (int64_t i = 0; i < cfg.numHiddenLayers; ++i) {
      std::string p = "model.layers." + std::to_string(i) + ".";
      Value n = g.rmsnorm(h, param(p + "input_layernorm.weight"),
                          cfg.rmsNormEps);
      h = g.add(h, attention(n, p + "self_attn.", cos, sin));
      n = g.rmsnorm(h, param(p + "post_attention_layernorm.weight"),
                    cfg.rmsNormEps);
      Value m;
      if (cfg.useMoe) {
        Value layerAux;
        m = moe(n, p + "mlp.", layerAux);
        if (layerAux)
          aux = aux ? g.add(aux, layerAux) : layerAux;
      } else {
        m = denseMlp(n, p + "mlp.");
      }
      h = g.add(h, m);
    }
    h = g.rmsnorm(h, param("model.norm.weight"), cfg.rmsNormEps);
    // lm_head is tied to the embedding: the same parameter, used twice.
    Value logits = g.linear(h, param("model.embed_tokens.weight"));
    Value loss = g.crossEntropy(logits, targets, mask);
    if (!aux)
      aux = g.fill({}, 0.0, g.builder().getF32Type());
    return {loss, aux};
  }

private:
  Value param(const std::string &name) const {
    auto it = params.find(name);
    if (it == params.end())
      throw ConfigError("internal error: no parameter named '" + name + "'");
    return it->second;
  }

  Value attention(Value x, const std::string &p, Value cos, Value sin) {
    int64_t b = shape.batch, s = shape.seqLen, d = cfg.headDim();
    Value q = g.reshape(g.linear(x, param(p + "q_proj.weight")),
                        {b, s, cfg.numAttentionHeads, d});
    Value k = g.reshape(g.linear(x, param(p + "k_proj.weight")),
                        {b, s, cfg.numKeyValueHeads, d});
    Value v = g.reshape(g.linear(x, param(p + "v_proj.weight")),
                        {b, s, cfg.numKeyValueHeads, d});
    q = g.rope(q, cos, sin);
    k = g.rope(k, cos, sin);
    Value o = g.attention(q, k, v, 1.0 / std::sqrt(static_cast<double>(d)),
                          /*causal=*/true);
    o = g.reshape(o, {b, s, cfg.numAttentionHeads * d});
    return g.linear(o, param(p + "o_proj.weight"));
  }

  /// down(silu(gate(x)) * up(x)).
  Value denseMlp(Value x, const std::string &p) {
    Value gate = g.silu(g.linear(x, param(p + "gate_proj.weight")));
    Value up = g.linear(x, param(p + "up_proj.weight"));
    return g.linear(g.mul(gate, up), param(p + "down_proj.weight"));
  }

  Value moe(Value x, const std::string &p, Value &aux) {
    int64_t b = shape.batch, s = shape.seqLen, hidden = cfg.hiddenSize;
    int64_t experts = cfg.nRoutedExperts, k = cfg.numExpertsPerTok;
    Value flat = g.reshape(x, {b * s, hidden});
    Value scores = g.softmax(g.linear(flat, param(p + "gate.weight")));
    auto [weights, indices] =
        g.topk(scores, k, /*normalize=*/k > 1 && cfg.normTopkProb);
    if (cfg.auxLossAlpha > 0.0)
      aux = g.moeAuxLoss(scores, indices, cfg.auxLossAlpha, cfg.seqAux, b);

    auto [perm, offsets] = g.moeRoute(indices, experts);
    Value rows = g.moeDispatch(flat, perm, k);
    SmallVector<Value> gateW, upW, downW;
    for (int64_t e = 0; e < experts; ++e) {
      std::string ep = p + "experts." + std::to_string(e) + ".";
      gateW.push_back(param(ep + "gate_proj.weight"));
      upW.push_back(param(ep + "up_proj.weight"));
      downW.push_back(param(ep + "down_proj.weight"));
    }
    Value act = g.mul(g.silu(g.groupedLinear(rows, offsets, gateW)),
                      g.groupedLinear(rows, offsets, upW));
    Value y = g.moeCombine(g.groupedLinear(act, offsets, downW), perm,
                           weights);
    for (int64_t e = 0; e < cfg.nSharedExperts; ++e)
      y = g.add(y, denseMlp(flat, p + "shared_experts." + std::to_string(e) +
                                      "."));
    return g.reshape(y, {b, s, hidden});
  }

  GraphBuilder &g;
  const MiniMindConfig &cfg;
  const TrainShape &shape;
  const llvm::StringMap<Value> &params;
};
} // namespace

OwningOpRef<ModuleOp> mind::buildMiniMindForward(MLIRContext &context,
                                                 const MiniMindConfig &config,
                                                 const TrainShape &shape) {
  validateConfig(config, "<config>");
  if (config.dropout != 0.0)
    throw ConfigError("field 'dropout': dropout " +
                      std::to_string(config.dropout) +
                      " is not supported by mindc yet (use 0.0, MiniMind's "
                      "default)");
  if (shape.batch < 1 || shape.seqLen < 1)
    throw ConfigError("batch size and sequence length must be positive");
  if (shape.seqLen > config.maxPositionEmbeddings)
    throw ConfigError("field 'max_position_embeddings': sequence length " +
                      std::to_string(shape.seqLen) + " exceeds " +
                      std::to_string(config.maxPositionEmbeddings));

  context.loadDialect<MindDialect, func::FuncDialect>();
  OpBuilder builder(&context);
  Location loc = NameLoc::get(builder.getStringAttr("minimind"));
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  // The config travels with the IR, so a printed module compiles to the same
  // trainer as the config it came from (`mindc compile MODULE.mlir`).
  module->getOperation()->setAttr("mind.config",
                                  builder.getStringAttr(toJson(config).dump()));
  builder.setInsertionPointToEnd(module->getBody());

  auto shapes = parameterShapes(config);
  SmallVector<Type> argTypes;
  Type f32 = builder.getF32Type(), i64 = builder.getI64Type();
  for (auto &[name, dims] : shapes)
    argTypes.push_back(RankedTensorType::get(dims, f32));
  auto tokens = RankedTensorType::get({shape.batch, shape.seqLen}, i64);
  argTypes.append({tokens, tokens, tokens});
  auto scalar = RankedTensorType::get({}, f32);
  auto func = func::FuncOp::create(
      builder, loc, "forward", builder.getFunctionType(argTypes,
                                                       {scalar, scalar}));
  Block *body = func.addEntryBlock();
  llvm::StringMap<Value> params;
  // All argument attributes at once: one setArgAttr per argument rebuilds
  // the whole list each time (quadratic in the parameter count).
  SmallVector<DictionaryAttr> argAttrs;
  for (auto [i, entry] : llvm::enumerate(shapes)) {
    argAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
        "mind.param", builder.getStringAttr(entry.first))));
    params[entry.first] = body->getArgument(i);
  }
  unsigned firstInput = shapes.size();
  const char *inputNames[] = {"ids", "targets", "mask"};
  for (unsigned j = 0; j < 3; ++j)
    argAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
        "mind.input", builder.getStringAttr(inputNames[j]))));
  func.setAllArgAttrs(argAttrs);

  builder.setInsertionPointToEnd(body);
  GraphBuilder g(builder, loc, f32);
  MiniMindWriter writer(g, config, shape, params);
  auto [loss, aux] =
      writer.forward(body->getArgument(firstInput),
                     body->getArgument(firstInput + 1),
                     body->getArgument(firstInput + 2));
  func::ReturnOp::create(builder, loc, ValueRange{loss, aux});
  return module;
}
