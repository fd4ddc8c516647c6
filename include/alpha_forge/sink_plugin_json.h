/* sink_plugin_json.h: a small reader for the params object a sink plugin's
 * create() receives (a flat JSON object such as
 * {"path":"out.jsonl","batch":100,"verbose":true,"tags":["a","b"]}), so that a C
 * plugin does not carry its own JSON parser.
 *
 *   char* path = af_json_string(config_json, "path");       malloc'ed, or NULL
 *   double batch; int ok = af_json_number(config_json, "batch", &batch);
 *   int verbose; ok = af_json_bool(config_json, "verbose", &verbose);
 *
 * Header-only (static inline functions), C99, no allocation except the returned string.
 * Lists are skipped by these getters; read them with af_json_value() and your
 * own loop if a plugin declares list params. Part of the plugin kit, like
 * sink_plugin.h; not used by the engine itself. */
#ifndef ALPHA_FORGE_SINK_PLUGIN_JSON_H
#define ALPHA_FORGE_SINK_PLUGIN_JSON_H

#include <stdlib.h>
#include <string.h>

static inline const char* af_json_skip_ws_(const char* p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') ++p;
  return p;
}

/* Parses a JSON string at p (which points at the opening quote). Returns the
 * position after the closing quote, or NULL. When out is not NULL, stores a
 * malloc'ed copy of the decoded string (\u escapes above 0x7f become '?'). */
static inline const char* af_json_parse_string_(const char* p, char** out) {
  size_t cap = strlen(p) + 1, n = 0;
  char* s = NULL;
  if (*p != '"') return NULL;
  ++p;
  if (out) {
    s = malloc(cap);
    if (!s) return NULL;
  }
  while (*p && *p != '"') {
    char c = *p++;
    if (c == '\\') {
      char e = *p++;
      switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
          unsigned v = 0;
          for (int i = 0; i < 4; ++i) {
            char h = *p++;
            v <<= 4;
            if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
            else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
            else { free(s); return NULL; }
          }
          c = v < 0x80 ? (char)v : '?';
          break;
        }
        default: free(s); return NULL;
      }
    }
    if (s) s[n++] = c;
  }
  if (*p != '"') {
    free(s);
    return NULL;
  }
  if (out) {
    s[n] = '\0';
    *out = s;
  }
  return p + 1;
}

/* Skips any JSON value (string, number, literal, array, object); returns the
 * position just after it, or NULL. */
static inline const char* af_json_skip_value_(const char* p) {
  int depth = 0;
  p = af_json_skip_ws_(p);
  for (;;) {
    if (*p == '\0') return NULL;
    if (*p == '"') {
      p = af_json_parse_string_(p, NULL);
      if (!p || depth == 0) return p;
      continue;
    }
    if (depth == 0 && (*p == ',' || *p == '}')) return p; /* end of a number or literal */
    if (*p == '[' || *p == '{') {
      ++depth;
    } else if (*p == ']' || *p == '}') {
      if (--depth == 0) return p + 1;
    }
    ++p;
  }
}

/* Where the value of `key` starts in a flat JSON object; NULL if absent. */
static inline const char* af_json_value(const char* json, const char* key) {
  const char* p = af_json_skip_ws_(json);
  if (*p++ != '{') return NULL;
  for (;;) {
    char* k = NULL;
    int match;
    p = af_json_skip_ws_(p);
    if (*p == '}') return NULL;
    p = af_json_parse_string_(p, &k);
    if (!p) return NULL;
    p = af_json_skip_ws_(p);
    if (*p++ != ':') {
      free(k);
      return NULL;
    }
    p = af_json_skip_ws_(p);
    match = strcmp(k, key) == 0;
    free(k);
    if (match) return p;
    p = af_json_skip_value_(p);
    if (!p) return NULL;
    p = af_json_skip_ws_(p);
    if (*p == ',') ++p;
    else return NULL;
  }
}

/* The number value of `key`: 1 and *out set, or 0 if absent or not a number. */
static inline int af_json_number(const char* json, const char* key, double* out) {
  const char* p = af_json_value(json, key);
  char* end = NULL;
  double v;
  if (!p || !(*p == '-' || (*p >= '0' && *p <= '9'))) return 0;
  v = strtod(p, &end);
  if (end == p) return 0;
  *out = v;
  return 1;
}

/* The boolean value of `key`: 1 and *out set (0 or 1), or 0 if absent or not a boolean. */
static inline int af_json_bool(const char* json, const char* key, int* out) {
  const char* p = af_json_value(json, key);
  if (!p) return 0;
  if (strncmp(p, "true", 4) == 0) {
    *out = 1;
    return 1;
  }
  if (strncmp(p, "false", 5) == 0) {
    *out = 0;
    return 1;
  }
  return 0;
}

/* The string value of `key`, malloc'ed (free it); NULL if absent or not a string. */
static inline char* af_json_string(const char* json, const char* key) {
  const char* p = af_json_value(json, key);
  char* v = NULL;
  if (!p || *p != '"') return NULL;
  return af_json_parse_string_(p, &v) ? v : NULL;
}

#endif /* ALPHA_FORGE_SINK_PLUGIN_JSON_H */
