# Sourced by the test scripts that need a tool a developer machine may lack
# (the cross compiler, QEMU). skip_or_fail MESSAGE prints MESSAGE and exits
# 77, the ctest skip code; on CI (CI set, and not "false" or "0") it exits 1
# instead: a test that checks nothing must not pass there.
skip_or_fail() {
  echo "$1"
  case "${CI:-}" in
    "" | false | 0) exit 77 ;;
    *)
      echo "CI=$CI: a missing tool fails the test instead of skipping it"
      exit 1
      ;;
  esac
}
