# Writes OUT (a C++ file) holding each input file's text as a string literal,
# so the kernel templates travel inside the library that compiles them.
# Usage: cmake -DOUT=... -DINPUTS="a.cuh;b.cuh" -P EmbedSources.cmake
set(body "// Generated from runtime/kernels/*.cuh by EmbedSources.cmake.\n")
string(APPEND body "extern const char *const kMindKernelSources[];\n")
string(APPEND body "extern const unsigned kMindKernelSourceCount;\n")
string(APPEND body "const char *const kMindKernelSources[] = {\n")
set(count 0)
foreach(input ${INPUTS})
  file(READ ${input} text)
  get_filename_component(name ${input} NAME)
  string(APPEND body "  R\"mind_src(// ---- ${name}\n${text})mind_src\",\n")
  math(EXPR count "${count} + 1")
endforeach()
string(APPEND body "};\nconst unsigned kMindKernelSourceCount = ${count};\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
