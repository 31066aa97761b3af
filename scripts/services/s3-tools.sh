#!/usr/bin/env bash
# scripts/services/s3-tools.sh — makes sure the S3 clients the compatibility tests drive are
# there: the AWS CLI (`aws`), `rclone`, python3 with boto3, and `s3cmd`. Missing ones are installed
# from Debian packages with apt-get (awscli, rclone, python3-boto3, s3cmd) as root, or through sudo -n.
#
# stdout: nothing. stderr: a line per tool with its version, e.g.
#   [s3-tools] aws: aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64.debian.12 prompt/off
# and what was installed, or why a tool is missing. Exits non-zero when a tool is missing and
# cannot be installed.
#
# Which binary the tests use is found the same way by packages/server/test/helpers/s3-tools.ts:
# STOWAGE_TEST_AWS, STOWAGE_TEST_RCLONE, STOWAGE_TEST_PYTHON, STOWAGE_TEST_S3CMD when set, else
# `aws`, `rclone` and `s3cmd` on PATH (then /usr/bin), and the first of `python3` on PATH and
# /usr/bin/python3 that imports boto3 (Debian's python3-boto3 goes to /usr/bin/python3, which
# another python3 may shadow).
#
# Environment knobs (all optional):
#   STOWAGE_TEST_AWS, STOWAGE_TEST_RCLONE, STOWAGE_TEST_PYTHON, STOWAGE_TEST_S3CMD  binaries to use as they are
#   S3_TOOLS_NO_INSTALL=1  never run apt-get
set -Eeuo pipefail

log() { printf '[s3-tools] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# The binary named by the variable $1 when set (if executable), else $2 on PATH, then /usr/bin/$2.
find_binary() {
  local named=${!1:-}
  if [ -n "$named" ]; then
    [ -x "$named" ] && echo "$named"
    return
  fi
  command -v "$2" 2>/dev/null || { [ -x "/usr/bin/$2" ] && echo "/usr/bin/$2"; }
}
find_aws() { find_binary STOWAGE_TEST_AWS aws; }
find_rclone() { find_binary STOWAGE_TEST_RCLONE rclone; }
find_s3cmd() { find_binary STOWAGE_TEST_S3CMD s3cmd; }

# A python3 that imports boto3.
find_python() {
  local candidate candidates
  if [ -n "${STOWAGE_TEST_PYTHON:-}" ]; then
    candidates=("$STOWAGE_TEST_PYTHON")
  else
    candidates=("$(command -v python3 2>/dev/null || true)" /usr/bin/python3)
  fi
  for candidate in "${candidates[@]}"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if "$candidate" -c 'import boto3' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# A binary named in the environment is used as it is, never installed over.
if [ -n "${STOWAGE_TEST_AWS:-}" ] && ! find_aws >/dev/null; then die "STOWAGE_TEST_AWS=$STOWAGE_TEST_AWS is not an executable file"; fi
if [ -n "${STOWAGE_TEST_RCLONE:-}" ] && ! find_rclone >/dev/null; then die "STOWAGE_TEST_RCLONE=$STOWAGE_TEST_RCLONE is not an executable file"; fi
if [ -n "${STOWAGE_TEST_PYTHON:-}" ] && ! find_python >/dev/null; then die "STOWAGE_TEST_PYTHON=$STOWAGE_TEST_PYTHON cannot import boto3"; fi
if [ -n "${STOWAGE_TEST_S3CMD:-}" ] && ! find_s3cmd >/dev/null; then die "STOWAGE_TEST_S3CMD=$STOWAGE_TEST_S3CMD is not an executable file"; fi

# The packages to install for the tools that are missing.
missing=()
find_aws >/dev/null || missing+=(awscli)
find_rclone >/dev/null || missing+=(rclone)
find_python >/dev/null || missing+=(python3-boto3)
find_s3cmd >/dev/null || missing+=(s3cmd)

if [ ${#missing[@]} -gt 0 ]; then
  [ "${S3_TOOLS_NO_INSTALL:-0}" = 1 ] && die "missing: ${missing[*]} (S3_TOOLS_NO_INSTALL=1, so not installed)"
  log "installing ${missing[*]} (Debian packages)"
  started=$SECONDS
  "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" "${missing[@]}" || die "missing: ${missing[*]}, and they could not be installed"
  log "installed ${missing[*]} in $((SECONDS - started)) s"
fi

aws=$(find_aws) || die "the awscli package is installed but no aws binary was found"
rclone=$(find_rclone) || die "the rclone package is installed but no rclone binary was found"
python=$(find_python) || die "python3-boto3 is installed but no python3 imports boto3"
s3cmd=$(find_s3cmd) || die "the s3cmd package is installed but no s3cmd binary was found"

# Whole outputs first (a `| head -1` would end the tool with SIGPIPE), then their first lines.
aws_version=$("$aws" --version 2>&1) || die "$aws --version failed: $aws_version"
rclone_version=$("$rclone" version 2>&1) || die "$rclone version failed: $rclone_version"
s3cmd_version=$("$s3cmd" --version 2>&1) || die "$s3cmd --version failed: $s3cmd_version"
aws_version=${aws_version%%$'\n'*}
rclone_version=${rclone_version%%$'\n'*}
boto3_version=$("$python" -c 'import boto3, botocore, sys; print(f"boto3 {boto3.__version__} botocore {botocore.__version__} Python {sys.version.split()[0]}")' 2>&1) ||
  die "$python cannot report boto3's version: $boto3_version"
log "aws: $aws_version ($aws)"
log "rclone: $rclone_version ($rclone)"
log "boto3: $boto3_version ($python)"
log "s3cmd: ${s3cmd_version%%$'\n'*} ($s3cmd)"
