# -*- Python -*-
# lit configuration for mindc's compiler tests (FileCheck-based).

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "MINDC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.substitutions.append(("%python", "python3"))
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit",
                   "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mind_obj_root, "test")

# Variables in FileCheck patterns must not leak across CHECK-LABEL blocks.
config.environment["FILECHECK_OPTS"] = "-enable-var-scope"

config.substitutions.append(("%mind_src_root", config.mind_src_root))
config.substitutions.append(("%configs", os.path.join(config.mind_src_root, "configs")))
config.substitutions.append(("%shared_data", config.mind_shared_data_dir))

# `mindc compile` needs NVRTC and the mind-trainer runtime (the CUDA toolkit,
# not a GPU).
if config.mind_have_cuda:
    config.available_features.add("cuda-toolkit")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.mind_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["mind-opt", "mindc", "mind-train", "mind-data"], [config.mind_tools_dir])
