/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Internal to the treefile loader (tc-treefile.c): parsed documents that remember source lines
 * (tc-treefile-parse.c) and the table of keys with their checks (tc-treefile-keys.c). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *path;             /* as shown in messages */
  JsonNode *root;         /* always an object */
  GHashTable *node_lines; /* JsonNode * -> line (YAML: every node; JSON: top-level values) */
  GHashTable *key_lines;  /* "OBJECT-ADDRESS/KEY" -> line of the key (JSON: top level only) */
} TcTreefileDoc;

void tc_treefile_doc_free (TcTreefileDoc *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcTreefileDoc, tc_treefile_doc_free)

/* Parses @contents (YAML or JSON: by @path's extension, else JSON when it starts with '{')
 * into an object. An empty YAML document is an empty object. Errors start with "PATH:LINE:". */
TcTreefileDoc *tc_treefile_doc_parse (const char *path, const char *contents, gsize len,
                                      GError **error);

/* 1-based line where @node starts, or @fallback when unknown. */
int tc_treefile_doc_line (TcTreefileDoc *doc, JsonNode *node, int fallback);

/* 1-based line of member @key of @object, or @fallback when unknown. */
int tc_treefile_doc_key_line (TcTreefileDoc *doc, JsonObject *object, const char *key,
                              int fallback);

/* Keys */

typedef enum
{
  TC_KT_STRING,
  TC_KT_BOOL,
  TC_KT_UINT,
  TC_KT_RELEASEVER, /* string or non-negative integer */
  TC_KT_ENUM,
  TC_KT_STRV,
  TC_KT_INCLUDE, /* path or list of paths */
  TC_KT_ARCH_INCLUDE,
  TC_KT_CONDITIONAL_INCLUDE,
  TC_KT_VARIABLES,
  TC_KT_STRING_MAP,
  TC_KT_MAP,
  TC_KT_ADD_FILES, /* [[source, destination], ...] */
  TC_KT_STRV_LIST, /* [[package, regex...], ...] */
  TC_KT_CHECK,     /* check-passwd, check-groups */
  TC_KT_ROJIG,
  TC_KT_REPO_PACKAGES,
  TC_KT_MODULES,
  TC_KT_OBJECT,
  TC_KT_OBJECT_LIST,
} TcTreefileKeyType;

/* How values from several files combine. Files are visited depth first, a file before what it
 * includes and includes in the order given; as in rpm-ostree the first value met wins, and lists
 * concatenate in the reverse of that order (so included content comes first). */
typedef enum
{
  TC_MERGE_FIRST,
  TC_MERGE_APPEND,
  TC_MERGE_UNION, /* sets of strings, sorted */
  TC_MERGE_MAP,   /* key-wise, the first value of each key wins */
  TC_MERGE_CONSUMED,
} TcTreefileMerge;

enum
{
  TC_KEY_IMPLEMENTED = 1 << 0,
  TC_KEY_SUBSTITUTE = 1 << 1, /* ${variable} is replaced in its strings */
};

typedef struct
{
  const char *name;
  TcTreefileKeyType type;
  TcTreefileMerge merge;
  guint flags;
  const char *const *values; /* TC_KT_ENUM */
} TcTreefileKey;

typedef struct
{
  const char *path; /* as shown in messages */
  const char *dir;  /* real directory of the file, base of its relative paths */
  int line;
} TcTreefileOrigin;

/* One treefile, or an inline conditional-include, with canonical keys and checked values. */
typedef struct
{
  TcTreefileOrigin origin;
  TcTreefileDoc *doc;
  JsonObject *obj;
  GHashTable *key_lines; /* canonical key -> line */
} TcTreefileFragment;

/* Every key rpm-ostree knows, in the order of the flattened treefile. */
const TcTreefileKey *tc_treefile_keys (guint *out_n_keys);
const TcTreefileKey *tc_treefile_key_find (const char *name);
/* Resolves underscore spellings and packages-$basearch; NULL for an unknown key. */
const TcTreefileKey *tc_treefile_key_canonicalize (const char *name, char **out_canonical);
gboolean tc_treefile_key_is_implemented (const char *key);

gboolean tc_treefile_validate_value (TcTreefileFragment *frag, const TcTreefileKey *key_spec,
                                     const char *key, JsonNode *node, int line, GError **error);
/* Evaluates one conditional-include condition against @vars. */
gboolean tc_treefile_eval_condition (TcTreefileFragment *frag, JsonObject *vars, const char *text,
                                     JsonNode *where, int line, gboolean *out_result,
                                     GError **error);

/* Fails with "PATH:LINE: MESSAGE", the line being @node's or else @fallback. */
gboolean tc_treefile_throw_at (GError **error, TcTreefileFragment *frag, JsonNode *node,
                               int fallback, const char *fmt, ...) G_GNUC_PRINTF (5, 6);
/* "a string", "a list", ... for messages. */
const char *tc_treefile_describe (JsonNode *node);

static inline gboolean
tc_json_is_value_of (JsonNode *node, GType type)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

static inline gboolean
tc_json_is_string (JsonNode *node)
{
  return tc_json_is_value_of (node, G_TYPE_STRING);
}

static inline gboolean
tc_json_is_bool (JsonNode *node)
{
  return tc_json_is_value_of (node, G_TYPE_BOOLEAN);
}

static inline gboolean
tc_json_is_uint (JsonNode *node)
{
  return tc_json_is_value_of (node, G_TYPE_INT64) && json_node_get_int (node) >= 0;
}

static inline gboolean
tc_json_is_strv (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  JsonArray *array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (!tc_json_is_string (json_array_get_element (array, i)))
      return FALSE;
  return TRUE;
}

static inline JsonNode *
tc_json_string_node (const char *s)
{
  return json_node_init_string (json_node_alloc (), s);
}

G_END_DECLS
