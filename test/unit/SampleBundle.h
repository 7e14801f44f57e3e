//===- SampleBundle.h - a small complete training bundle for tests -*- C++ -*-===//
//
// Shared by BundleTest (the plan rules, one violation at a time) and
// BundleFuzz (mutants of its serialized bytes).
//
//===----------------------------------------------------------------------===//

#ifndef MIND_TEST_UNIT_SAMPLEBUNDLE_H
#define MIND_TEST_UNIT_SAMPLEBUNDLE_H

#include "mind/abi/Bundle.h"

namespace mind::runtime::samples {

/// A buffer of `shape` at `offset`, its byte size filled in.
BufferDesc buffer(const std::string &name, BufferKind kind, DType dtype,
                  std::vector<int64_t> shape, uint64_t offset);

/// A small but complete training plan: two params (the second padded to the
/// 256-byte alignment), their grads, the trainer's inputs and outputs,
/// activations two of which share memory, the optimizer kernels, a test
/// kernel with every argument kind, and a memset, a GEMM and a launch.
Plan samplePlan();

/// samplePlan() with 1000 bytes of "cubin", PTX, CUDA source and MLIR.
Bundle sampleBundle();

/// Hand-made bundle bytes with correct section lengths and checksum, for
/// corruptions the writer would never produce: magic, version, then each
/// section as u64 length + bytes, then the CRC-32.
std::vector<uint8_t> rawBundle(const std::vector<std::string> &sections,
                               uint32_t version = kBundleVersion,
                               const char *magic = "MINDBNDL");

} // namespace mind::runtime::samples

#endif // MIND_TEST_UNIT_SAMPLEBUNDLE_H
