#!/bin/bash -eu
# ci/oss-fuzz/build.sh - OSS-Fuzz / ClusterFuzzLite build of the libFuzzer targets fuzz_case and
# fuzz_parse (fuzz/README.md). Runs in the base-builder image with $SRC/abifuzz checked out;
# CC, CFLAGS (sanitizer + -fsanitize=fuzzer-no-link), LIB_FUZZING_ENGINE and OUT come from it.
# fuzz/fuzz.cmake adds -fsanitize=fuzzer itself (AF_FUZZ=ON), so LIB_FUZZING_ENGINE is not
# passed: only libFuzzer is supported (project.yaml: fuzzing_engines).
cd "$SRC/abifuzz"
cmake -S . -B build-oss -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAF_FUZZ=ON \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" \
  -DCMAKE_PROJECT_INCLUDE="$PWD/fuzz/fuzz.cmake"
cmake --build build-oss --target fuzz_case fuzz_parse
cp build-oss/fuzz_case build-oss/fuzz_parse "$OUT/"

# printed cases are larger than libFuzzer's default -max_len of 4096
for t in fuzz_case fuzz_parse; do
  printf '[libfuzzer]\nmax_len = 65536\n' >"$OUT/$t.options"
done

# seed corpora from corpus/seeds: fuzz_case takes "#abifuzz-case\n" + .case text, fuzz_parse
# the text itself
seeds=$(mktemp -d)
mkdir -p "$seeds/case" "$seeds/parse"
for f in corpus/seeds/*.case; do
  [ -f "$f" ] || continue
  { printf '#abifuzz-case\n'; cat "$f"; } >"$seeds/case/$(basename "$f")"
  cp "$f" "$seeds/parse/"
done
(cd "$seeds/case" && zip -q -r "$OUT/fuzz_case_seed_corpus.zip" .) || true
(cd "$seeds/parse" && zip -q -r "$OUT/fuzz_parse_seed_corpus.zip" .) || true
rm -rf "$seeds"
