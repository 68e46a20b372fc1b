/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Treefile front end: YAML (libyaml events) and JSON (json-glib) into JsonNode trees that
 * remember the source line of each key and value, for error messages. */
#include "config.h"

#include <string.h>

#include <yaml.h>

#include "tc-treefile-private.h"
#include "tc-util.h"

/* Bounds for hostile input: nesting depth, and nodes after expanding aliases. */
#define MAX_DEPTH 64
#define MAX_NODES (1 << 20)

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (yaml_event_t, yaml_event_delete)

void
tc_treefile_doc_free (TcTreefileDoc *doc)
{
  if (doc == NULL)
    return;
  g_free (doc->path);
  g_clear_pointer (&doc->root, json_node_unref);
  g_clear_pointer (&doc->node_lines, g_hash_table_unref);
  g_clear_pointer (&doc->key_lines, g_hash_table_unref);
  g_free (doc);
}

static TcTreefileDoc *
doc_new (const char *path)
{
  TcTreefileDoc *doc = g_new0 (TcTreefileDoc, 1);
  doc->path = g_strdup (path);
  doc->node_lines = g_hash_table_new (NULL, NULL);
  doc->key_lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return doc;
}

static char *
key_line_id (JsonObject *object, const char *key)
{
  return g_strdup_printf ("%p/%s", (void *)object, key);
}

static void
set_key_line (TcTreefileDoc *doc, JsonObject *object, const char *key, int line)
{
  g_hash_table_replace (doc->key_lines, key_line_id (object, key), GINT_TO_POINTER (line));
}

int
tc_treefile_doc_line (TcTreefileDoc *doc, JsonNode *node, int fallback)
{
  gpointer line = node ? g_hash_table_lookup (doc->node_lines, node) : NULL;
  return line ? GPOINTER_TO_INT (line) : fallback;
}

int
tc_treefile_doc_key_line (TcTreefileDoc *doc, JsonObject *object, const char *key, int fallback)
{
  g_autofree char *id = key_line_id (object, key);
  gpointer line = g_hash_table_lookup (doc->key_lines, id);
  return line ? GPOINTER_TO_INT (line) : fallback;
}

/* YAML */

typedef struct
{
  JsonNode *node;
  gsize n_nodes;
} Anchor;

static void
anchor_free (Anchor *anchor)
{
  json_node_unref (anchor->node);
  g_free (anchor);
}

typedef struct
{
  yaml_parser_t parser;
  TcTreefileDoc *doc;
  GHashTable *anchors; /* name -> Anchor */
  gsize n_nodes;
} YamlLoader;

static void
yaml_loader_clear (YamlLoader *ld)
{
  yaml_parser_delete (&ld->parser);
  g_clear_pointer (&ld->anchors, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (YamlLoader, yaml_loader_clear)

static gboolean
throw_yaml_problem (YamlLoader *ld, GError **error)
{
  yaml_parser_t *p = &ld->parser;
  const char *problem = p->problem ? p->problem : "invalid YAML";
  if (p->error == YAML_READER_ERROR)
    return tc_throw (error, "%s: %s at byte %zu", ld->doc->path, problem, p->problem_offset);
  if (p->context)
    return tc_throw (error, "%s:%zu:%zu: %s (%s at line %zu)", ld->doc->path,
                     p->problem_mark.line + 1, p->problem_mark.column + 1, problem, p->context,
                     p->context_mark.line + 1);
  return tc_throw (error, "%s:%zu:%zu: %s", ld->doc->path, p->problem_mark.line + 1,
                   p->problem_mark.column + 1, problem);
}

static gboolean
next_event (YamlLoader *ld, yaml_event_t *event, GError **error)
{
  if (!yaml_parser_parse (&ld->parser, event))
    return throw_yaml_problem (ld, error);
  return TRUE;
}

static gboolean
all_chars (const char *s, const char *accept)
{
  return *s != '\0' && strspn (s, accept) == strlen (s);
}

/* A YAML 1.2 core-schema float: [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)? */
static gboolean
is_float_syntax (const char *s)
{
  if (*s == '-' || *s == '+')
    s++;
  gsize n_int = strspn (s, "0123456789");
  s += n_int;
  gsize n_frac = 0;
  if (*s == '.')
    {
      s++;
      n_frac = strspn (s, "0123456789");
      s += n_frac;
    }
  if (n_int == 0 && n_frac == 0)
    return FALSE;
  if (*s == 'e' || *s == 'E')
    {
      s++;
      if (*s == '-' || *s == '+')
        s++;
      if (!all_chars (s, "0123456789"))
        return FALSE;
      return TRUE;
    }
  return *s == '\0';
}

static gboolean
parse_yaml_int (const char *s, gint64 *out)
{
  const char *digits = s;
  int base = 10;
  if (g_str_has_prefix (s, "0x"))
    digits = s + 2, base = 16;
  else if (g_str_has_prefix (s, "0o"))
    digits = s + 2, base = 8;
  else if (*s == '-' || *s == '+')
    digits = s + 1;
  if (!all_chars (digits, base == 16 ? "0123456789abcdefABCDEF" : "0123456789"))
    return FALSE;
  if (base != 10)
    {
      guint64 v;
      if (!g_ascii_string_to_unsigned (digits, base, 0, G_MAXINT64, &v, NULL))
        return FALSE;
      *out = (gint64)v;
      return TRUE;
    }
  return g_ascii_string_to_signed (s, 10, G_MININT64, G_MAXINT64, out, NULL);
}

static JsonNode *
resolve_plain_scalar (const char *value)
{
  JsonNode *node = json_node_alloc ();
  gint64 i;
  if (*value == '\0' || g_str_equal (value, "~") || g_str_equal (value, "null")
      || g_str_equal (value, "Null") || g_str_equal (value, "NULL"))
    return json_node_init_null (node);
  if (g_str_equal (value, "true") || g_str_equal (value, "True") || g_str_equal (value, "TRUE"))
    return json_node_init_boolean (node, TRUE);
  if (g_str_equal (value, "false") || g_str_equal (value, "False") || g_str_equal (value, "FALSE"))
    return json_node_init_boolean (node, FALSE);
  if (parse_yaml_int (value, &i))
    return json_node_init_int (node, i);
  if (is_float_syntax (value))
    return json_node_init_double (node, g_ascii_strtod (value, NULL));
  return json_node_init_string (node, value);
}

static JsonNode *
load_scalar (YamlLoader *ld, yaml_event_t *event, int line, GError **error)
{
  const char *value = (const char *)event->data.scalar.value;
  const char *tag = (const char *)event->data.scalar.tag;
  if (tag && g_str_equal (tag, YAML_STR_TAG))
    return json_node_init_string (json_node_alloc (), value);
  if (tag
      && (g_str_equal (tag, YAML_INT_TAG) || g_str_equal (tag, YAML_FLOAT_TAG)
          || g_str_equal (tag, YAML_BOOL_TAG) || g_str_equal (tag, YAML_NULL_TAG)))
    {
      g_autoptr (JsonNode) node = resolve_plain_scalar (value);
      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        {
          tc_throw (error, "%s:%d: \"%s\" does not match its tag %s", ld->doc->path, line, value,
                    tag);
          return NULL;
        }
      return g_steal_pointer (&node);
    }
  /* Quoted and block scalars are strings; plain ones are typed by their text. */
  if (event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return json_node_init_string (json_node_alloc (), value);
  return resolve_plain_scalar (value);
}

static JsonNode *load_node (YamlLoader *ld, yaml_event_t *event, guint depth, GError **error);

static JsonNode *
load_sequence (YamlLoader *ld, guint depth, GError **error)
{
  g_autoptr (JsonArray) array = json_array_new ();
  for (;;)
    {
      g_auto (yaml_event_t) child = { 0 };
      if (!next_event (ld, &child, error))
        return NULL;
      if (child.type == YAML_SEQUENCE_END_EVENT)
        break;
      JsonNode *element = load_node (ld, &child, depth + 1, error);
      if (!element)
        return NULL;
      json_array_add_element (array, element);
    }
  return json_node_init_array (json_node_alloc (), array);
}

static JsonNode *
load_mapping (YamlLoader *ld, guint depth, GError **error)
{
  g_autoptr (JsonObject) object = json_object_new ();
  for (;;)
    {
      g_auto (yaml_event_t) key_event = { 0 };
      if (!next_event (ld, &key_event, error))
        return NULL;
      if (key_event.type == YAML_MAPPING_END_EVENT)
        break;
      int key_line = (int)key_event.start_mark.line + 1;
      if (key_event.type != YAML_SCALAR_EVENT)
        {
          tc_throw (error, "%s:%d: mapping keys must be strings", ld->doc->path, key_line);
          return NULL;
        }
      g_autofree char *key = g_strdup ((const char *)key_event.data.scalar.value);
      g_auto (yaml_event_t) value_event = { 0 };
      if (!next_event (ld, &value_event, error))
        return NULL;
      JsonNode *value = load_node (ld, &value_event, depth + 1, error);
      if (!value)
        return NULL;
      if (json_object_has_member (object, key))
        {
          json_node_unref (value);
          tc_throw (error, "%s:%d: duplicate key \"%s\"", ld->doc->path, key_line, key);
          return NULL;
        }
      json_object_set_member (object, key, value);
      set_key_line (ld->doc, object, key, key_line);
    }
  return json_node_init_object (json_node_alloc (), object);
}

static JsonNode *
load_node (YamlLoader *ld, yaml_event_t *event, guint depth, GError **error)
{
  int line = (int)event->start_mark.line + 1;
  if (depth > MAX_DEPTH)
    {
      tc_throw (error, "%s:%d: nested deeper than %d levels", ld->doc->path, line, MAX_DEPTH);
      return NULL;
    }
  gsize n_nodes_before = ld->n_nodes;
  if (++ld->n_nodes > MAX_NODES)
    {
      tc_throw (error, "%s:%d: more than %d nodes", ld->doc->path, line, MAX_NODES);
      return NULL;
    }

  const char *anchor = NULL;
  g_autoptr (JsonNode) node = NULL;
  switch (event->type)
    {
    case YAML_ALIAS_EVENT:
      {
        const char *name = (const char *)event->data.alias.anchor;
        Anchor *target = g_hash_table_lookup (ld->anchors, name);
        if (!target)
          {
            tc_throw (error, "%s:%d: unknown alias \"*%s\"", ld->doc->path, line, name);
            return NULL;
          }
        ld->n_nodes += target->n_nodes;
        if (ld->n_nodes > MAX_NODES)
          {
            tc_throw (error, "%s:%d: more than %d nodes after expanding aliases", ld->doc->path,
                      line, MAX_NODES);
            return NULL;
          }
        node = json_node_copy (target->node);
        break;
      }
    case YAML_SCALAR_EVENT:
      anchor = (const char *)event->data.scalar.anchor;
      node = load_scalar (ld, event, line, error);
      break;
    case YAML_SEQUENCE_START_EVENT:
      anchor = (const char *)event->data.sequence_start.anchor;
      node = load_sequence (ld, depth, error);
      break;
    case YAML_MAPPING_START_EVENT:
      anchor = (const char *)event->data.mapping_start.anchor;
      node = load_mapping (ld, depth, error);
      break;
    default:
      tc_throw (error, "%s:%d: unexpected YAML event", ld->doc->path, line);
      return NULL;
    }
  if (!node)
    return NULL;

  g_hash_table_insert (ld->doc->node_lines, node, GINT_TO_POINTER (line));
  /* Registered only once complete, so an alias can never refer to its own ancestor. */
  if (anchor)
    {
      Anchor *a = g_new0 (Anchor, 1);
      a->node = json_node_ref (node);
      a->n_nodes = ld->n_nodes - n_nodes_before;
      g_hash_table_replace (ld->anchors, g_strdup (anchor), a);
    }
  return g_steal_pointer (&node);
}

static gboolean
expect_event (YamlLoader *ld, yaml_event_type_t type, GError **error)
{
  g_auto (yaml_event_t) event = { 0 };
  if (!next_event (ld, &event, error))
    return FALSE;
  if (event.type == type)
    return TRUE;
  if (event.type == YAML_DOCUMENT_START_EVENT)
    return tc_throw (error, "%s:%zu: more than one YAML document", ld->doc->path,
                     event.start_mark.line + 1);
  return tc_throw (error, "%s:%zu: unexpected YAML content", ld->doc->path,
                   event.start_mark.line + 1);
}

static JsonNode *
empty_object_node (void)
{
  g_autoptr (JsonObject) object = json_object_new ();
  return json_node_init_object (json_node_alloc (), object);
}

static gboolean
parse_yaml (TcTreefileDoc *doc, const char *contents, gsize len, GError **error)
{
  g_auto (YamlLoader) ld = { .doc = doc };
  ld.anchors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)anchor_free);
  if (!yaml_parser_initialize (&ld.parser))
    return tc_throw (error, "%s: out of memory initializing the YAML parser", doc->path);
  yaml_parser_set_input_string (&ld.parser, (const unsigned char *)contents, len);

  if (!expect_event (&ld, YAML_STREAM_START_EVENT, error))
    return FALSE;
  g_auto (yaml_event_t) event = { 0 };
  if (!next_event (&ld, &event, error))
    return FALSE;
  if (event.type == YAML_STREAM_END_EVENT)
    {
      doc->root = empty_object_node ();
      return TRUE;
    }
  g_assert (event.type == YAML_DOCUMENT_START_EVENT);
  g_auto (yaml_event_t) root_event = { 0 };
  if (!next_event (&ld, &root_event, error))
    return FALSE;
  int root_line = (int)root_event.start_mark.line + 1;
  g_autoptr (JsonNode) root = load_node (&ld, &root_event, 0, error);
  if (!root)
    return FALSE;
  if (!expect_event (&ld, YAML_DOCUMENT_END_EVENT, error)
      || !expect_event (&ld, YAML_STREAM_END_EVENT, error))
    return FALSE;

  if (JSON_NODE_HOLDS_NULL (root))
    {
      doc->root = empty_object_node ();
      return TRUE;
    }
  if (JSON_NODE_HOLDS_VALUE (root) && json_node_get_value_type (root) == G_TYPE_STRING)
    return tc_throw (error,
                     "%s:%d: expected a mapping of treefile keys, found the text \"%s\" (a "
                     "symbolic link stored as a plain file?)",
                     doc->path, root_line, json_node_get_string (root));
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return tc_throw (error, "%s:%d: expected a mapping of treefile keys", doc->path, root_line);
  doc->root = g_steal_pointer (&root);
  return TRUE;
}

/* JSON */

/* json-glib keeps no positions, so find the line of each top-level key in the (valid) text. */
static gboolean
scan_json_top_level (TcTreefileDoc *doc, const char *s, gsize len, GError **error)
{
  JsonObject *object = json_node_get_object (doc->root);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  int line = 1;
  int depth = 0;
  for (gsize i = 0; i < len; i++)
    {
      char c = s[i];
      if (c == '\n')
        line++;
      else if (c == '{' || c == '[')
        depth++;
      else if (c == '}' || c == ']')
        depth--;
      else if (c == '"')
        {
          gsize start = i + 1;
          int start_line = line;
          gboolean escaped = FALSE;
          for (i = start; i < len && s[i] != '"'; i++)
            {
              if (s[i] == '\\')
                escaped = TRUE, i++;
              else if (s[i] == '\n')
                line++;
            }
          if (i >= len)
            break;
          gsize j = i + 1;
          while (j < len && g_ascii_isspace (s[j]))
            j++;
          if (depth != 1 || j >= len || s[j] != ':' || escaped)
            continue;
          g_autofree char *key = g_strndup (s + start, i - start);
          if (g_hash_table_contains (seen, key))
            return tc_throw (error, "%s:%d: duplicate key \"%s\"", doc->path, start_line, key);
          JsonNode *value = json_object_get_member (object, key);
          if (value)
            g_hash_table_insert (doc->node_lines, value, GINT_TO_POINTER (start_line));
          set_key_line (doc, object, key, start_line);
          g_hash_table_add (seen, g_steal_pointer (&key));
        }
    }
  return TRUE;
}

static gboolean
parse_json (TcTreefileDoc *doc, const char *contents, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  if (!json_parser_load_from_data (parser, contents, (gssize)len, &local_error))
    {
      const char *msg = local_error->message;
      /* json-glib reports "<data>:LINE:COL: Parse error: ..." */
      if (g_str_has_prefix (msg, "<data>:"))
        return tc_throw (error, "%s:%s", doc->path, msg + strlen ("<data>:"));
      return tc_throw (error, "%s: %s", doc->path, msg);
    }
  g_autoptr (JsonNode) root = json_parser_steal_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return tc_throw (error, "%s:1: expected a JSON object of treefile keys", doc->path);
  doc->root = g_steal_pointer (&root);
  return scan_json_top_level (doc, contents, len, error);
}

static gboolean
is_json (const char *path, const char *contents, gsize len)
{
  if (g_str_has_suffix (path, ".json"))
    return TRUE;
  if (g_str_has_suffix (path, ".yaml") || g_str_has_suffix (path, ".yml"))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (contents[i]))
      return contents[i] == '{';
  return FALSE;
}

TcTreefileDoc *
tc_treefile_doc_parse (const char *path, const char *contents, gsize len, GError **error)
{
  g_autoptr (TcTreefileDoc) doc = doc_new (path);
  gboolean ok = is_json (path, contents, len) ? parse_json (doc, contents, len, error)
                                              : parse_yaml (doc, contents, len, error);
  if (!ok)
    return NULL;
  return g_steal_pointer (&doc);
}
