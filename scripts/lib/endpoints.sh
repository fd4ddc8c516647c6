# Reads and writes the KEY=VALUE files that scripts/test_servers.sh leaves for the
# tests (endpoints.env, status). Sourced by scripts, never executed on its own.
#
# A value is everything after the first '=' up to the end of the line, taken
# literally: spaces, quotes, '$' and ';' stay text. The file is read as data and
# never sourced, so a value is never run as a command.

# endpoints_put FILE KEY VALUE: appends one line.
endpoints_put() {
  local file=$1 key=$2 value=$3
  if [[ ! "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]]; then
    echo "endpoints: invalid key '$key'" >&2
    return 1
  fi
  if [[ "$value" == *$'\n'* ]]; then
    echo "endpoints: value of $key spans lines" >&2
    return 1
  fi
  printf '%s=%s\n' "$key" "$value" >>"$file"
}

# endpoints_get FILE KEY: prints KEY's value (the last one if repeated); fails when absent.
endpoints_get() {
  local file=$1 want=$2 line found=1 value=
  [[ -f "$file" ]] || return 1
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" == "$want="* ]] || continue
    value=${line#*=}
    found=0
  done <"$file"
  [[ $found -eq 0 ]] && printf '%s\n' "$value"
  return $found
}

# endpoints_export FILE: exports every KEY=VALUE line into the environment. Blank
# lines and '#' comments are skipped; a malformed line is an error naming it.
endpoints_export() {
  local file=$1 line key n=0
  while IFS= read -r line || [[ -n "$line" ]]; do
    n=$((n + 1))
    [[ -z "$line" || "$line" == \#* ]] && continue
    key=${line%%=*}
    if [[ "$line" != *=* || ! "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]]; then
      echo "endpoints: $file:$n: not a KEY=VALUE line: $line" >&2
      return 1
    fi
    export "$key=${line#*=}"
  done <"$file"
}
