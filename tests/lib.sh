# tests/lib.sh — sourced by the shell tests (not a test itself): $E, the
# ember under test; $M, the bundled model; $T, a scratch folder removed at
# exit; the ok/bad lines tests/run.sh counts; and expect.
E=${EMBER:-./ember}
M=tests/data/models/stories260K.gguf
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

ok() { echo "ok $*"; }
bad() { echo "not ok $*"; }

# expect CODE NAME CMD...: exit status CODE and exactly one stderr line
# "ember: error: ..." within EXPECT_TIMEOUT seconds (default 10).
expect() {
    local code=$1 name=$2; shift 2
    timeout "${EXPECT_TIMEOUT:-10}" "$@" >"$T/out" 2>"$T/err"; local rc=$?
    if [ "$rc" -eq "$code" ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^ember: error: ' "$T/err"; then
        ok "$name -> exit $rc: $(cut -c1-150 "$T/err")"
    else
        bad "$name: exit $rc (want $code), stderr: $(head -c 300 "$T/err")"
    fi
}
