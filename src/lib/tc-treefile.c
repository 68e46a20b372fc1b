/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Treefiles: loading with includes, variables and conditions, validation of every key, and
 * rpm-ostree's merge rules, giving one flattened JSON object. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tc-treefile.h"
#include "tc-treefile-private.h"
#include "tc-util.h"

#define MAX_INCLUDE_DEPTH 50
#define MAX_TREEFILE_SIZE (16 * 1024 * 1024)

typedef struct
{
  const char *key;
  TcTreefileOrigin origin;
} Occurrence;

struct _TcTreefile
{
  char *path;
  char *dir;
  JsonNode *root;
  JsonObject *variables;
  GStringChunk *strings;
  GArray *occurrences; /* Occurrence: every key of every file, in visiting order */
  GHashTable *origins; /* "key" or "key/member" -> TcTreefileOrigin *, where the value came from */
  GHashTable *number_texts; /* key -> text of a number value, for get_string */
};

typedef struct
{
  TcTreefile *tf;
  const char *basearch;
  GPtrArray *docs;
  GPtrArray *fragments;  /* TcTreefileFragment, in visiting order */
  GPtrArray *chain;      /* display paths of the files being included, root first */
  GPtrArray *chain_real; /* and their real paths */
  GHashTable *seen;      /* real path -> display path of the file that included it */
  JsonObject *variables;
} Loader;

typedef struct
{
  char *path;
  int line;
} IncludeRef;

static void
include_ref_free (IncludeRef *ref)
{
  g_free (ref->path);
  g_free (ref);
}

static void
fragment_free (TcTreefileFragment *frag)
{
  g_clear_pointer (&frag->obj, json_object_unref);
  g_clear_pointer (&frag->key_lines, g_hash_table_unref);
  g_free (frag);
}

static void
loader_clear (Loader *ld)
{
  g_clear_pointer (&ld->fragments, g_ptr_array_unref);
  g_clear_pointer (&ld->docs, g_ptr_array_unref);
  g_clear_pointer (&ld->chain, g_ptr_array_unref);
  g_clear_pointer (&ld->chain_real, g_ptr_array_unref);
  g_clear_pointer (&ld->seen, g_hash_table_unref);
  g_clear_pointer (&ld->variables, json_object_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Loader, loader_clear)

static const char *
intern (TcTreefile *tf, const char *s)
{
  return g_string_chunk_insert_const (tf->strings, s);
}

static int
key_line (TcTreefileFragment *frag, const char *key)
{
  gpointer line = g_hash_table_lookup (frag->key_lines, key);
  return line ? GPOINTER_TO_INT (line) : frag->origin.line;
}

static JsonNode *
array_node (JsonArray *array)
{
  JsonNode *node = json_node_init_array (json_node_alloc (), array);
  json_array_unref (array);
  return node;
}

static JsonNode *
object_node (JsonObject *object)
{
  JsonNode *node = json_node_init_object (json_node_alloc (), object);
  json_object_unref (object);
  return node;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* A set of strings as a sorted list, as rpm-ostree keeps packages. */
static JsonNode *
sorted_set_node (GHashTable *set)
{
  guint n = 0;
  g_autofree gpointer *names = g_hash_table_get_keys_as_array (set, &n);
  qsort (names, n, sizeof (gpointer), compare_strings);
  JsonArray *array = json_array_sized_new (n);
  for (guint i = 0; i < n; i++)
    json_array_add_string_element (array, names[i]);
  return array_node (array);
}

static void
add_words (const char *text, GPtrArray *out)
{
  g_auto (GStrv) words = g_strsplit_set (text, " \t\n\r\f\v", -1);
  for (char **w = words; *w; w++)
    if (**w != '\0')
      g_ptr_array_add (out, g_strdup (*w));
}

/* Splits a packages entry on whitespace, except inside single quotes (so "'podman >= 4.1'"
 * stays one version query), as rpm-ostree does. FALSE for an unterminated quote. */
static gboolean
split_packages (const char *text, GPtrArray *out)
{
  gboolean quoted = FALSE;
  const char *start = text;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p != '\'')
        continue;
      g_autofree char *part = g_strndup (start, p - start);
      if (!quoted)
        add_words (part, out);
      else if (*part != '\0')
        g_ptr_array_add (out, g_steal_pointer (&part));
      quoted = !quoted;
      start = p + 1;
    }
  if (quoted)
    return FALSE;
  add_words (start, out);
  return TRUE;
}

/* Per-file normalization, as rpm-ostree does it on each file before merging */

/* packages, bootstrap-packages and packages-$basearch become one split, sorted packages set;
 * packages-$otherarch are dropped. */
static gboolean
normalize_packages (Loader *ld, TcTreefileFragment *frag, GError **error)
{
  g_autofree char *arch_key = g_strconcat ("packages-", ld->basearch, NULL);
  const char *sources[] = { "packages", "bootstrap-packages", arch_key };
  g_autoptr (GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean any = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    {
      JsonNode *node = json_object_get_member (frag->obj, sources[i]);
      if (node == NULL)
        continue;
      any = TRUE;
      JsonArray *array = json_node_get_array (node);
      for (guint j = 0; j < json_array_get_length (array); j++)
        {
          JsonNode *element = json_array_get_element (array, j);
          const char *text = json_node_get_string (element);
          g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
          if (!split_packages (text, words))
            return tc_treefile_throw_at (error, frag, element, key_line (frag, sources[i]),
                                         "key \"%s\": missing terminating quote in \"%s\"",
                                         sources[i], text);
          for (guint k = 0; k < words->len; k++)
            g_hash_table_add (set, g_strdup (words->pdata[k]));
        }
    }

  g_autoptr (GList) members = json_object_get_members (frag->obj);
  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;
      if (g_str_equal (name, "bootstrap-packages")
          || (g_str_has_prefix (name, "packages-") && tc_treefile_key_find (name) == NULL))
        json_object_remove_member (frag->obj, name);
    }
  if (any)
    json_object_set_member (frag->obj, "packages", sorted_set_node (set));
  return TRUE;
}

static gboolean
normalize_repo_packages (TcTreefileFragment *frag, GError **error)
{
  JsonNode *node = json_object_get_member (frag->obj, "repo-packages");
  if (node == NULL)
    return TRUE;
  JsonArray *entries = json_node_get_array (node);
  JsonArray *result = json_array_new ();
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);
      JsonArray *packages = json_object_get_array_member (entry, "packages");
      g_autoptr (GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint j = 0; j < json_array_get_length (packages); j++)
        {
          const char *text = json_array_get_string_element (packages, j);
          g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
          if (!split_packages (text, words))
            {
              json_array_unref (result);
              return tc_treefile_throw_at (error, frag, json_array_get_element (packages, j),
                                           key_line (frag, "repo-packages"),
                                           "key \"repo-packages\": missing terminating quote in "
                                           "\"%s\"",
                                           text);
            }
          for (guint k = 0; k < words->len; k++)
            g_hash_table_add (set, g_strdup (words->pdata[k]));
        }
      JsonObject *copy = json_object_new ();
      json_object_set_string_member (copy, "repo", json_object_get_string_member (entry, "repo"));
      json_object_set_member (copy, "packages", sorted_set_node (set));
      json_array_add_object_element (result, copy);
    }
  json_object_set_member (frag->obj, "repo-packages", array_node (result));
  return TRUE;
}

static void
set_implied (TcTreefileFragment *frag, const char *key, JsonNode *value, int line)
{
  json_object_set_member (frag->obj, key, value);
  if (!g_hash_table_contains (frag->key_lines, key))
    g_hash_table_insert (frag->key_lines, (char *)key, GINT_TO_POINTER (line));
}

static JsonNode *
bool_node (gboolean value)
{
  return json_node_init_boolean (json_node_alloc (), value);
}

static JsonNode *
check_none_node (void)
{
  JsonObject *check = json_object_new ();
  json_object_set_string_member (check, "type", "none");
  return object_node (check);
}

/* rpm-ostree's implied settings for "container: true" and "edition: 2024". */
static void
apply_implied_settings (TcTreefileFragment *frag)
{
  JsonNode *container = json_object_get_member (frag->obj, "container");
  if (container && json_node_get_boolean (container))
    {
      int line = key_line (frag, "container");
      set_implied (frag, "boot-location", tc_json_string_node ("modules"), line);
      set_implied (frag, "selinux", bool_node (FALSE), line);
      set_implied (frag, "tmp-is-dir", bool_node (TRUE), line);
      set_implied (frag, "preserve-passwd", bool_node (FALSE), line);
      set_implied (frag, "check-passwd", check_none_node (), line);
      set_implied (frag, "check-groups", check_none_node (), line);
    }
  JsonNode *edition = json_object_get_member (frag->obj, "edition");
  if (edition && g_str_equal (json_node_get_string (edition), "2024"))
    {
      int line = key_line (frag, "edition");
      if (!json_object_has_member (frag->obj, "boot-location"))
        set_implied (frag, "boot-location", tc_json_string_node ("modules"), line);
      if (!json_object_has_member (frag->obj, "tmp-is-dir"))
        set_implied (frag, "tmp-is-dir", bool_node (TRUE), line);
    }
}

/* Replaces the relative path in @node by the absolute path of the existing file it names. */
static gboolean
resolve_external (TcTreefileFragment *frag, const char *key, JsonNode *node, GError **error)
{
  const char *name = json_node_get_string (node);
  g_autofree char *path = g_path_is_absolute (name)
                              ? g_strdup (name)
                              : g_build_filename (frag->origin.dir, name, NULL);
  struct stat st;
  if (stat (path, &st) < 0)
    {
      int errsv = errno;
      return tc_treefile_throw_at (error, frag, node, key_line (frag, key),
                                   "key \"%s\": \"%s\": %s: %s", key, name, path,
                                   g_strerror (errsv));
    }
  if (!S_ISREG (st.st_mode))
    return tc_treefile_throw_at (error, frag, node, key_line (frag, key),
                                 "key \"%s\": %s is not a regular file", key, path);
  json_node_set_string (node, path);
  return TRUE;
}

/* As rpm-ostree: only content under /usr and /etc (and the /bin, /lib ... links) survives. */
static gboolean
add_files_destination_is_valid (const char *dest)
{
  while (*dest == '/')
    dest++;
  static const char *const prefixes[] = { "etc/", "bin/", "sbin/", "lib/", "lib64/" };
  if (g_str_has_prefix (dest, "usr/") && !g_str_has_prefix (dest, "usr/local/"))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
    if (g_str_has_prefix (dest, prefixes[i]))
      return TRUE;
  return FALSE;
}

static gboolean
resolve_externals (TcTreefileFragment *frag, GError **error)
{
  JsonNode *node = json_object_get_member (frag->obj, "postprocess-script");
  if (node && !resolve_external (frag, "postprocess-script", node, error))
    return FALSE;

  node = json_object_get_member (frag->obj, "add-files");
  JsonArray *pairs = node ? json_node_get_array (node) : NULL;
  for (guint i = 0; pairs && i < json_array_get_length (pairs); i++)
    {
      JsonArray *pair = json_array_get_array_element (pairs, i);
      const char *dest = json_array_get_string_element (pair, 1);
      if (!add_files_destination_is_valid (dest))
        return tc_treefile_throw_at (error, frag, json_array_get_element (pair, 1),
                                     key_line (frag, "add-files"),
                                     "key \"add-files\": unsupported destination \"%s\" (only "
                                     "under /usr or /etc)",
                                     dest);
      if (!resolve_external (frag, "add-files", json_array_get_element (pair, 0), error))
        return FALSE;
    }

  const char *checks[] = { "check-passwd", "check-groups" };
  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      node = json_object_get_member (frag->obj, checks[i]);
      JsonObject *check = node ? json_node_get_object (node) : NULL;
      if (check && g_str_equal (json_object_get_string_member (check, "type"), "file")
          && !resolve_external (frag, checks[i], json_object_get_member (check, "filename"), error))
        return FALSE;
    }
  return TRUE;
}

/* Checks beyond each value's type. */
static gboolean
check_values (Loader *ld, TcTreefileFragment *frag, GError **error)
{
  JsonObject *obj = frag->obj;
  JsonNode *node = json_object_get_member (obj, "basearch");
  if (node && !g_str_equal (json_node_get_string (node), ld->basearch))
    return tc_treefile_throw_at (error, frag, node, key_line (frag, "basearch"),
                                 "basearch \"%s\" does not match the target architecture \"%s\" "
                                 "(cross-composes are not supported)",
                                 json_node_get_string (node), ld->basearch);
  node = json_object_get_member (obj, "automatic-version-suffix");
  if (node)
    {
      const char *suffix = json_node_get_string (node);
      if (strlen (suffix) != 1 || !g_ascii_isprint (suffix[0]))
        return tc_treefile_throw_at (
            error, frag, node, key_line (frag, "automatic-version-suffix"),
            "key \"automatic-version-suffix\": must be exactly one ASCII character, not \"%s\"",
            suffix);
    }
  node = json_object_get_member (obj, "selinux-label-version");
  if (node && json_node_get_int (node) > 1)
    return tc_treefile_throw_at (error, frag, node, key_line (frag, "selinux-label-version"),
                                 "key \"selinux-label-version\": must be 0 or 1");
  node = json_object_get_member (obj, "repovars");
  if (node
      && (json_object_has_member (json_node_get_object (node), "releasever")
          || json_object_has_member (json_node_get_object (node), "basearch")))
    return tc_treefile_throw_at (error, frag, node, key_line (frag, "repovars"),
                                 "key \"repovars\": releasever and basearch are set "
                                 "automatically");
  return TRUE;
}

/* Builds the fragment for @raw (a whole file, or an inline conditional-include at
 * @inline_line): canonical keys, every value checked, relative paths made absolute. */
static TcTreefileFragment *
fragment_new (Loader *ld, TcTreefileDoc *doc, JsonObject *raw, const char *path, const char *dir,
              int inline_line, GError **error)
{
  TcTreefile *tf = ld->tf;
  TcTreefileFragment *frag = g_new0 (TcTreefileFragment, 1);
  g_ptr_array_add (ld->fragments, frag);
  frag->origin.path = intern (tf, path);
  frag->origin.dir = intern (tf, dir);
  frag->origin.line = inline_line > 0 ? inline_line : 1;
  frag->doc = doc;
  frag->obj = json_object_new ();
  frag->key_lines = g_hash_table_new (g_str_hash, g_str_equal);

  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  json_object_iter_init_ordered (&iter, raw);
  while (json_object_iter_next_ordered (&iter, &name, &node))
    {
      int line = tc_treefile_doc_key_line (doc, raw, name,
                                           tc_treefile_doc_line (doc, node, frag->origin.line));
      g_autofree char *canonical = NULL;
      const TcTreefileKey *spec = tc_treefile_key_canonicalize (name, &canonical);
      if (spec == NULL)
        return (tc_throw (error, "%s:%d: unknown key \"%s\"", frag->origin.path, line, name), NULL);
      const char *key = intern (tf, canonical);
      if (g_hash_table_contains (frag->key_lines, key))
        return (tc_throw (error, "%s:%d: key \"%s\" is given twice (\"%s\" is another spelling)",
                          frag->origin.path, line, key, name),
                NULL);
      g_hash_table_insert (frag->key_lines, (char *)key, GINT_TO_POINTER (line));
      /* As in rpm-ostree, a key without a value counts as absent. */
      if (JSON_NODE_HOLDS_NULL (node))
        continue;
      if (!tc_treefile_validate_value (frag, spec, key, node, line, error))
        return NULL;
      json_object_set_member (frag->obj, key, json_node_ref (node));
      Occurrence occurrence = { key, { frag->origin.path, frag->origin.dir, line } };
      g_array_append_val (tf->occurrences, occurrence);
    }

  if (!check_values (ld, frag, error) || !normalize_packages (ld, frag, error)
      || !normalize_repo_packages (frag, error))
    return NULL;
  apply_implied_settings (frag);
  if (!resolve_externals (frag, error))
    return NULL;
  return frag;
}

/* Includes and variables */

/* Variables met first win: the including file's over its includes', earlier includes' over
 * later ones'. */
static void
fold_variables (Loader *ld, TcTreefileFragment *frag)
{
  JsonNode *vars = json_object_get_member (frag->obj, "variables");
  if (vars)
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;
      json_object_iter_init_ordered (&iter, json_node_get_object (vars));
      while (json_object_iter_next_ordered (&iter, &name, &value))
        if (!json_object_has_member (ld->variables, name))
          json_object_set_member (ld->variables, name, json_node_copy (value));
    }
  JsonNode *releasever = json_object_get_member (frag->obj, "releasever");
  if (releasever && !json_object_has_member (ld->variables, "releasever"))
    json_object_set_member (ld->variables, "releasever", json_node_copy (releasever));
}

static void
add_include_paths (TcTreefileFragment *frag, JsonNode *node, int line, GPtrArray *includes)
{
  JsonArray *array = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  guint n = array ? json_array_get_length (array) : 1;
  for (guint i = 0; i < n; i++)
    {
      JsonNode *element = array ? json_array_get_element (array, i) : node;
      IncludeRef *ref = g_new0 (IncludeRef, 1);
      ref->path = g_strdup (json_node_get_string (element));
      ref->line = tc_treefile_doc_line (frag->doc, element, line);
      g_ptr_array_add (includes, ref);
    }
}

/* The files @frag includes, in rpm-ostree's order: include, then arch-include, then each
 * conditional-include that holds with the variables known so far. Inline conditional
 * includes become fragments right away. */
static gboolean
collect_includes (Loader *ld, TcTreefileFragment *frag, GPtrArray *includes, GError **error)
{
  JsonNode *node = json_object_get_member (frag->obj, "include");
  if (node)
    add_include_paths (frag, node, key_line (frag, "include"), includes);
  node = json_object_get_member (frag->obj, "arch-include");
  JsonNode *arch_node
      = node ? json_object_get_member (json_node_get_object (node), ld->basearch) : NULL;
  if (arch_node)
    add_include_paths (frag, arch_node, key_line (frag, "arch-include"), includes);

  node = json_object_get_member (frag->obj, "conditional-include");
  if (node == NULL)
    return TRUE;
  int line = key_line (frag, "conditional-include");
  JsonArray *entries = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);
      JsonNode *cond = json_object_get_member (entry, "if");
      JsonNode *inc = json_object_get_member (entry, "include");
      JsonArray *conds = JSON_NODE_HOLDS_ARRAY (cond) ? json_node_get_array (cond) : NULL;
      guint n = conds ? json_array_get_length (conds) : 1;
      gboolean matches = TRUE;
      /* Every condition is evaluated, so mistakes show even when an earlier one is false. */
      for (guint j = 0; j < n; j++)
        {
          JsonNode *c = conds ? json_array_get_element (conds, j) : cond;
          gboolean result = FALSE;
          if (!tc_treefile_eval_condition (frag, ld->variables, json_node_get_string (c), c, line,
                                           &result, error))
            return FALSE;
          matches = matches && result;
        }
      if (!matches)
        continue;
      if (!JSON_NODE_HOLDS_OBJECT (inc))
        add_include_paths (frag, inc, line, includes);
      else if (!fragment_new (ld, frag->doc, json_node_get_object (inc), frag->origin.path,
                              frag->origin.dir, tc_treefile_doc_line (frag->doc, inc, line), error))
        return FALSE;
    }
  return TRUE;
}

static gboolean visit_include (Loader *ld, TcTreefileFragment *from, IncludeRef *ref, guint depth,
                               GError **error);

static gboolean
visit_file (Loader *ld, const char *path, const char *real, guint depth, GError **error)
{
  struct stat st;
  if (stat (real, &st) < 0)
    return tc_throw_errno_prefix (error, "%s", path);
  if (!S_ISREG (st.st_mode))
    return tc_throw (error, "%s: not a regular file", path);
  if (st.st_size > MAX_TREEFILE_SIZE)
    return tc_throw (error, "%s: larger than %d bytes", path, MAX_TREEFILE_SIZE);
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr (GError) local_error = NULL;
  if (!g_file_get_contents (real, &contents, &len, &local_error))
    return tc_throw (error, "%s: %s", path, local_error->message);
  TcTreefileDoc *doc = tc_treefile_doc_parse (path, contents, len, error);
  if (doc == NULL)
    return FALSE;
  g_ptr_array_add (ld->docs, doc);

  g_autofree char *dir = g_path_get_dirname (real);
  TcTreefileFragment *frag
      = fragment_new (ld, doc, json_node_get_object (doc->root), path, dir, 0, error);
  if (frag == NULL)
    return FALSE;
  fold_variables (ld, frag);
  g_autoptr (GPtrArray) includes
      = g_ptr_array_new_with_free_func ((GDestroyNotify)include_ref_free);
  if (!collect_includes (ld, frag, includes, error))
    return FALSE;

  g_ptr_array_add (ld->chain, (char *)frag->origin.path);
  g_ptr_array_add (ld->chain_real, (char *)intern (ld->tf, real));
  for (guint i = 0; i < includes->len; i++)
    if (!visit_include (ld, frag, includes->pdata[i], depth, error))
      return FALSE;
  g_ptr_array_set_size (ld->chain, ld->chain->len - 1);
  g_ptr_array_set_size (ld->chain_real, ld->chain_real->len - 1);
  return TRUE;
}

/* Include paths are relative to the real location of the including file, so a symbolic link
 * to a treefile elsewhere brings that file's own includes along. */
static gboolean
visit_include (Loader *ld, TcTreefileFragment *from, IncludeRef *ref, guint depth, GError **error)
{
  g_autofree char *path = g_path_is_absolute (ref->path)
                              ? g_strdup (ref->path)
                              : g_build_filename (from->origin.dir, ref->path, NULL);
  g_autofree char *real = realpath (path, NULL);
  if (real == NULL)
    {
      int errsv = errno;
      return tc_throw (error, "%s:%d: include \"%s\": %s: %s", from->origin.path, ref->line,
                       ref->path, path, g_strerror (errsv));
    }
  for (guint i = 0; i < ld->chain_real->len; i++)
    {
      if (!g_str_equal (ld->chain_real->pdata[i], real))
        continue;
      g_autoptr (GString) loop = g_string_new (NULL);
      for (guint j = i; j < ld->chain->len; j++)
        g_string_append_printf (loop, "%s -> ", (char *)ld->chain->pdata[j]);
      g_string_append (loop, path);
      return tc_throw (error, "%s:%d: include loop: %s", from->origin.path, ref->line, loop->str);
    }
  if (g_hash_table_contains (ld->seen, real))
    return tc_throw (error,
                     "%s:%d: include \"%s\": %s is already included by %s (as in rpm-ostree, a "
                     "file may be included only once)",
                     from->origin.path, ref->line, ref->path, path,
                     (char *)g_hash_table_lookup (ld->seen, real));
  if (depth + 1 > MAX_INCLUDE_DEPTH)
    return tc_throw (error, "%s:%d: includes nested deeper than %d levels", from->origin.path,
                     ref->line, MAX_INCLUDE_DEPTH);
  g_hash_table_insert (ld->seen, g_strdup (real), (char *)from->origin.path);
  return visit_file (ld, path, real, depth + 1, error);
}

/* Merging */

static void
record_origin (TcTreefile *tf, const char *key, const char *member, TcTreefileFragment *frag,
               int line)
{
  TcTreefileOrigin *origin = g_new (TcTreefileOrigin, 1);
  *origin = frag->origin;
  origin->line = line;
  g_hash_table_replace (tf->origins, member ? g_strconcat (key, "/", member, NULL) : g_strdup (key),
                        origin);
}

static TcTreefileFragment *
fragment_at (Loader *ld, guint i)
{
  return ld->fragments->pdata[i];
}

static void
merge_key (Loader *ld, const TcTreefileKey *spec, JsonObject *out)
{
  const char *key = spec->name;
  guint n = ld->fragments->len;
  TcTreefileFragment *first = NULL;
  for (guint i = 0; i < n && first == NULL; i++)
    if (json_object_has_member (fragment_at (ld, i)->obj, key))
      first = fragment_at (ld, i);
  /* rpm-ostree always prints packages, even when empty. */
  if (first == NULL && !g_str_equal (key, "packages"))
    return;
  if (first)
    record_origin (ld->tf, key, NULL, first, key_line (first, key));

  switch (spec->merge)
    {
    case TC_MERGE_FIRST:
      json_object_set_member (out, key, json_node_copy (json_object_get_member (first->obj, key)));
      break;
    case TC_MERGE_APPEND:
      {
        JsonArray *list = json_array_new ();
        for (guint i = n; i-- > 0;)
          {
            JsonNode *node = json_object_get_member (fragment_at (ld, i)->obj, key);
            JsonArray *items = node ? json_node_get_array (node) : NULL;
            for (guint j = 0; items && j < json_array_get_length (items); j++)
              json_array_add_element (list, json_node_copy (json_array_get_element (items, j)));
          }
        json_object_set_member (out, key, array_node (list));
        break;
      }
    case TC_MERGE_UNION:
      {
        g_autoptr (GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        for (guint i = 0; i < n; i++)
          {
            JsonNode *node = json_object_get_member (fragment_at (ld, i)->obj, key);
            JsonArray *items = node ? json_node_get_array (node) : NULL;
            for (guint j = 0; items && j < json_array_get_length (items); j++)
              g_hash_table_add (set, g_strdup (json_array_get_string_element (items, j)));
          }
        json_object_set_member (out, key, sorted_set_node (set));
        break;
      }
    case TC_MERGE_MAP:
      {
        JsonObject *map = json_object_new ();
        for (guint i = 0; i < n; i++)
          {
            TcTreefileFragment *frag = fragment_at (ld, i);
            JsonNode *node = json_object_get_member (frag->obj, key);
            if (node == NULL)
              continue;
            JsonObject *members = json_node_get_object (node);
            JsonObjectIter iter;
            const char *name;
            JsonNode *value;
            json_object_iter_init_ordered (&iter, members);
            while (json_object_iter_next_ordered (&iter, &name, &value))
              {
                if (json_object_has_member (map, name))
                  continue;
                json_object_set_member (map, name, json_node_copy (value));
                record_origin (
                    ld->tf, key, name, frag,
                    tc_treefile_doc_key_line (frag->doc, members, name, key_line (frag, key)));
              }
          }
        json_object_set_member (out, key, object_node (map));
        break;
      }
    case TC_MERGE_CONSUMED:
      g_assert_not_reached ();
    }
}

/* As in rpm-ostree, a package pinned by several repo-packages entries stays only in the last. */
static void
collapse_repo_packages (JsonObject *out)
{
  JsonNode *node = json_object_get_member (out, "repo-packages");
  if (node == NULL)
    return;
  JsonArray *entries = json_node_get_array (node);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();
  for (guint i = json_array_get_length (entries); i-- > 0;)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);
      JsonArray *packages = json_object_get_array_member (entry, "packages");
      JsonArray *left = json_array_new ();
      for (guint j = 0; j < json_array_get_length (packages); j++)
        {
          const char *name = json_array_get_string_element (packages, j);
          if (g_hash_table_add (seen, (char *)name))
            json_array_add_string_element (left, name);
        }
      if (json_array_get_length (left) == 0)
        {
          json_array_unref (left);
          continue;
        }
      JsonObject *copy = json_object_new ();
      json_object_set_string_member (copy, "repo", json_object_get_string_member (entry, "repo"));
      json_object_set_array_member (copy, "packages", left);
      g_ptr_array_add (kept, copy);
    }
  JsonArray *result = json_array_new ();
  for (guint i = kept->len; i-- > 0;)
    json_array_add_object_element (result, kept->pdata[i]);
  g_hash_table_remove_all (seen);
  json_object_set_array_member (out, "repo-packages", result);
}

/* Variables as text: booleans as true/false, numbers in decimal. */
static char *
variable_text (JsonNode *value)
{
  if (tc_json_is_bool (value))
    return g_strdup (json_node_get_boolean (value) ? "true" : "false");
  if (tc_json_is_value_of (value, G_TYPE_INT64))
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (value));
  return g_strdup (json_node_get_string (value));
}

/* Replaces each ${name} in @node's string; a name that looks like a variable but is not
 * defined is an error, anything else stays as written. */
static gboolean
substitute_string (JsonObject *vars, JsonNode *node, const TcTreefileOrigin *origin,
                   const char *what, GError **error)
{
  const char *text = json_node_get_string (node);
  g_autoptr (GString) result = g_string_new (NULL);
  const char *p = text;
  const char *start;
  while ((start = strstr (p, "${")) != NULL)
    {
      const char *end = strchr (start + 2, '}');
      if (end == NULL)
        break;
      g_autofree char *name = g_strndup (start + 2, end - start - 2);
      g_string_append_len (result, p, start - p);
      JsonNode *value
          = json_object_has_member (vars, name) ? json_object_get_member (vars, name) : NULL;
      if (value)
        {
          g_autofree char *value_text = variable_text (value);
          g_string_append (result, value_text);
        }
      else if (*name != '\0'
               && strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
                      == strlen (name))
        return tc_throw (error, "%s:%d: %s: unknown variable \"%s\"", origin->path, origin->line,
                         what, name);
      else
        g_string_append_len (result, start, end + 1 - start);
      p = end + 1;
    }
  g_string_append (result, p);
  json_node_set_string (node, result->str);
  return TRUE;
}

/* ${variable} substitution, in the same places as rpm-ostree: ref, automatic-version-prefix,
 * mutate-os-release, platform-module, the rojig texts and the string values of metadata and
 * add-commit-metadata. Never in scripts, whose shell variables look the same. */
static gboolean
substitute_variables (TcTreefile *tf, JsonObject *vars, JsonObject *out, GError **error)
{
  guint n_keys;
  const TcTreefileKey *keys = tc_treefile_keys (&n_keys);
  for (guint i = 0; i < n_keys; i++)
    {
      const char *key = keys[i].name;
      JsonNode *node = json_object_get_member (out, key);
      if (!(keys[i].flags & TC_KEY_SUBSTITUTE) || node == NULL)
        continue;
      const TcTreefileOrigin *origin = g_hash_table_lookup (tf->origins, key);
      if (tc_json_is_string (node))
        {
          if (!substitute_string (vars, node, origin, key, error))
            return FALSE;
          continue;
        }
      JsonObject *object = json_node_get_object (node);
      g_autoptr (GList) members = json_object_get_members (object);
      for (GList *l = members; l; l = l->next)
        {
          const char *member = l->data;
          JsonNode *value = json_object_get_member (object, member);
          g_autofree char *id = g_strconcat (key, "/", member, NULL);
          const TcTreefileOrigin *member_origin = g_hash_table_lookup (tf->origins, id);
          g_autofree char *what = g_strdup_printf ("%s \"%s\"", key, member);
          if (tc_json_is_string (value)
              && !substitute_string (vars, value, member_origin ? member_origin : origin, what,
                                     error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
merge_fragments (Loader *ld, GError **error)
{
  guint n_keys;
  const TcTreefileKey *keys = tc_treefile_keys (&n_keys);
  JsonObject *out = json_object_new ();
  ld->tf->root = object_node (out);
  for (guint i = 0; i < n_keys; i++)
    {
      if (keys[i].merge == TC_MERGE_CONSUMED)
        continue;
      merge_key (ld, &keys[i], out);
      if (g_str_equal (keys[i].name, "basearch"))
        json_object_set_string_member (out, "basearch", ld->basearch);
    }
  collapse_repo_packages (out);
  return substitute_variables (ld->tf, ld->variables, out, error);
}

/* Public API */

void
tc_treefile_free (TcTreefile *treefile)
{
  if (treefile == NULL)
    return;
  g_free (treefile->path);
  g_free (treefile->dir);
  g_clear_pointer (&treefile->root, json_node_unref);
  g_clear_pointer (&treefile->variables, json_object_unref);
  g_clear_pointer (&treefile->occurrences, g_array_unref);
  g_clear_pointer (&treefile->origins, g_hash_table_unref);
  g_clear_pointer (&treefile->number_texts, g_hash_table_unref);
  if (treefile->strings)
    g_string_chunk_free (treefile->strings);
  g_free (treefile);
}

TcTreefile *
tc_treefile_load (const char *path, const char *basearch, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (basearch != NULL, NULL);

  g_autofree char *real = realpath (path, NULL);
  if (real == NULL)
    return (tc_throw_errno_prefix (error, "%s", path), NULL);

  g_autoptr (TcTreefile) tf = g_new0 (TcTreefile, 1);
  tf->path = g_strdup (path);
  tf->dir = g_path_get_dirname (real);
  tf->strings = g_string_chunk_new (4096);
  tf->occurrences = g_array_new (FALSE, FALSE, sizeof (Occurrence));
  tf->origins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  tf->number_texts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_auto (Loader) ld = { .tf = tf, .basearch = basearch };
  ld.docs = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_treefile_doc_free);
  ld.fragments = g_ptr_array_new_with_free_func ((GDestroyNotify)fragment_free);
  ld.chain = g_ptr_array_new ();
  ld.chain_real = g_ptr_array_new ();
  ld.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ld.variables = json_object_new ();
  json_object_set_string_member (ld.variables, "basearch", basearch);
  g_hash_table_insert (ld.seen, g_strdup (real), (char *)"");

  if (!visit_file (&ld, path, real, 0, error) || !merge_fragments (&ld, error))
    return NULL;
  tf->variables = g_steal_pointer (&ld.variables);
  return g_steal_pointer (&tf);
}

JsonObject *
tc_treefile_get_root (TcTreefile *treefile)
{
  return json_node_get_object (treefile->root);
}

JsonObject *
tc_treefile_get_variables (TcTreefile *treefile)
{
  return treefile->variables;
}

char *
tc_treefile_to_json (TcTreefile *treefile, gboolean pretty)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_pretty (generator, pretty);
  json_generator_set_root (generator, treefile->root);
  return json_generator_to_data (generator, NULL);
}

static const char *
origin_path (TcTreefile *treefile, const char *key)
{
  const TcTreefileOrigin *origin = g_hash_table_lookup (treefile->origins, key);
  return origin ? origin->path : treefile->path;
}

gboolean
tc_treefile_check_implemented (TcTreefile *treefile, GError **error)
{
  for (guint i = 0; i < treefile->occurrences->len; i++)
    {
      Occurrence *occurrence = &g_array_index (treefile->occurrences, Occurrence, i);
      if (!tc_treefile_key_is_implemented (occurrence->key))
        return tc_throw (error, "%s: key \"%s\" is not implemented by treectl yet",
                         occurrence->origin.path, occurrence->key);
    }
  if (tc_treefile_get_bool (treefile, "selinux", FALSE))
    return tc_throw (error,
                     "%s: selinux: true is not supported: treectl has no SELinux policy support; "
                     "set \"selinux: false\"",
                     origin_path (treefile, "selinux"));
  const char *boot_location = tc_treefile_get_string (treefile, "boot-location");
  if (boot_location && !g_str_equal (boot_location, "modules"))
    return tc_throw (error,
                     "%s: boot-location \"%s\" is not implemented by treectl yet (only "
                     "\"modules\" is)",
                     origin_path (treefile, "boot-location"), boot_location);
  return TRUE;
}

const char *
tc_treefile_get_dir (TcTreefile *treefile)
{
  return treefile->dir;
}

const char *
tc_treefile_get_file_dir (TcTreefile *treefile, const char *key)
{
  const TcTreefileOrigin *origin = g_hash_table_lookup (treefile->origins, key);
  return origin ? origin->dir : NULL;
}

const char *
tc_treefile_get_string (TcTreefile *treefile, const char *key)
{
  JsonNode *node = json_object_get_member (tc_treefile_get_root (treefile), key);
  if (tc_json_is_string (node))
    return json_node_get_string (node);
  if (!tc_json_is_value_of (node, G_TYPE_INT64))
    return NULL;
  const char *text = g_hash_table_lookup (treefile->number_texts, key);
  if (text == NULL)
    {
      char *new_text = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
      g_hash_table_insert (treefile->number_texts, g_strdup (key), new_text);
      text = new_text;
    }
  return text;
}

gboolean
tc_treefile_get_bool (TcTreefile *treefile, const char *key, gboolean default_value)
{
  JsonNode *node = json_object_get_member (tc_treefile_get_root (treefile), key);
  return tc_json_is_bool (node) ? json_node_get_boolean (node) : default_value;
}

char **
tc_treefile_get_strv (TcTreefile *treefile, const char *key)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  JsonNode *node = json_object_get_member (tc_treefile_get_root (treefile), key);
  JsonArray *array = node && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  for (guint i = 0; array && i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      if (!tc_json_is_string (element))
        continue;
      /* packages was split when loading; exclude-packages is split here the same way. */
      if (!g_str_equal (key, "exclude-packages")
          || !split_packages (json_node_get_string (element), out))
        g_ptr_array_add (out, g_strdup (json_node_get_string (element)));
    }
  g_ptr_array_add (out, NULL);
  return (char **)g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static void
add_unique (GPtrArray *files, const char *path)
{
  if (path == NULL)
    return;
  for (guint i = 0; i < files->len; i++)
    if (g_str_equal (files->pdata[i], path))
      return;
  g_ptr_array_add (files, g_strdup (path));
}

GPtrArray *
tc_treefile_get_external_files (TcTreefile *treefile)
{
  JsonObject *root = tc_treefile_get_root (treefile);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  add_unique (files, tc_treefile_get_string (treefile, "postprocess-script"));
  JsonNode *node = json_object_get_member (root, "add-files");
  JsonArray *pairs = node ? json_node_get_array (node) : NULL;
  for (guint i = 0; pairs && i < json_array_get_length (pairs); i++)
    add_unique (files, json_array_get_string_element (json_array_get_array_element (pairs, i), 0));
  const char *checks[] = { "check-passwd", "check-groups" };
  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      node = json_object_get_member (root, checks[i]);
      JsonObject *check = node ? json_node_get_object (node) : NULL;
      if (check && g_str_equal (json_object_get_string_member (check, "type"), "file"))
        add_unique (files, json_object_get_string_member (check, "filename"));
    }
  return files;
}
