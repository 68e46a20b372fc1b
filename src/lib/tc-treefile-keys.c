/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Treefile keys: every key rpm-ostree knows with its type and merge rule, the checks of each
 * value, and conditional-include conditions. */
#include "config.h"

#include <string.h>

#include "tc-treefile-private.h"
#include "tc-util.h"

static const char *const edition_values[] = { "2014", "2024", NULL };
static const char *const boot_location_values[]
    = { "new", "modules", "kernel-install", "both", "legacy", NULL };
static const char *const opt_usrlocal_values[]
    = { "var", "root", "state-overlay", "stateoverlay", NULL };
static const char *const sysusers_values[] = { "compose-auto", "compose-forced", NULL };
static const char *const metadata_target_values[] = { "inline", "detached", "disabled", NULL };
static const char *const rpmdb_values[]
    = { "bdb", "b-d-b", "sqlite", "ndb", "target", "host", NULL };

#define IMPL TC_KEY_IMPLEMENTED
#define SUBST TC_KEY_SUBSTITUTE

/* Every key rpm-ostree knows (rust/src/treefile.rs, plus keys older releases accepted), in the
 * order the flattened treefile lists them. */
static const TcTreefileKey key_specs[] = {
  { "packages", TC_KT_STRV, TC_MERGE_UNION, IMPL },
  { "repo-packages", TC_KT_REPO_PACKAGES, TC_MERGE_APPEND },
  { "cliwrap", TC_KT_BOOL, TC_MERGE_FIRST },
  { "cliwrap-binaries", TC_KT_STRV, TC_MERGE_APPEND },
  { "base-refspec", TC_KT_STRING, TC_MERGE_FIRST },
  { "container-image-reference", TC_KT_STRING, TC_MERGE_FIRST },
  { "packages-local", TC_KT_STRING_MAP, TC_MERGE_MAP },
  { "packages-local-fileoverride", TC_KT_STRING_MAP, TC_MERGE_MAP },
  { "override-remove", TC_KT_STRV, TC_MERGE_UNION },
  { "ex-override-replace", TC_KT_OBJECT_LIST, TC_MERGE_APPEND },
  { "override-replace-local", TC_KT_STRING_MAP, TC_MERGE_MAP },
  { "override-replace-local-rpms", TC_KT_STRING_MAP, TC_MERGE_MAP },
  { "initramfs", TC_KT_OBJECT, TC_MERGE_FIRST },
  { "custom", TC_KT_OBJECT, TC_MERGE_FIRST },
  { "override-commit", TC_KT_STRING, TC_MERGE_FIRST },
  { "unconfigured-state", TC_KT_STRING, TC_MERGE_FIRST },
  { "edition", TC_KT_ENUM, TC_MERGE_FIRST, 0, edition_values },
  { "ref", TC_KT_STRING, TC_MERGE_FIRST, IMPL | SUBST },
  { "metadata", TC_KT_MAP, TC_MERGE_MAP, SUBST },
  { "basearch", TC_KT_STRING, TC_MERGE_FIRST, IMPL },
  { "variables", TC_KT_VARIABLES, TC_MERGE_CONSUMED, IMPL },
  { "repovars", TC_KT_STRING_MAP, TC_MERGE_CONSUMED },
  { "rojig", TC_KT_ROJIG, TC_MERGE_FIRST, SUBST },
  { "repos", TC_KT_STRV, TC_MERGE_APPEND, IMPL },
  { "lockfile-repos", TC_KT_STRV, TC_MERGE_APPEND },
  { "selinux", TC_KT_BOOL, TC_MERGE_FIRST, IMPL },
  { "ignore-devices", TC_KT_BOOL, TC_MERGE_FIRST },
  { "selinux-label-version", TC_KT_UINT, TC_MERGE_FIRST },
  { "sysusers", TC_KT_ENUM, TC_MERGE_FIRST, 0, sysusers_values },
  { "ima", TC_KT_BOOL, TC_MERGE_FIRST },
  { "gpg-key", TC_KT_STRING, TC_MERGE_FIRST, IMPL },
  { "include", TC_KT_INCLUDE, TC_MERGE_CONSUMED, IMPL },
  { "arch-include", TC_KT_ARCH_INCLUDE, TC_MERGE_CONSUMED, IMPL },
  { "conditional-include", TC_KT_CONDITIONAL_INCLUDE, TC_MERGE_CONSUMED, IMPL },
  { "bootstrap-packages", TC_KT_STRV, TC_MERGE_CONSUMED },
  { "modules", TC_KT_MODULES, TC_MERGE_FIRST },
  { "ostree-layers", TC_KT_STRV, TC_MERGE_APPEND },
  { "ostree-override-layers", TC_KT_STRV, TC_MERGE_APPEND },
  { "exclude-packages", TC_KT_STRV, TC_MERGE_APPEND, IMPL },
  { "platform-module", TC_KT_STRING, TC_MERGE_FIRST, SUBST },
  { "container", TC_KT_BOOL, TC_MERGE_FIRST },
  { "recommends", TC_KT_BOOL, TC_MERGE_FIRST, IMPL },
  { "documentation", TC_KT_BOOL, TC_MERGE_FIRST, IMPL },
  { "install-langs", TC_KT_STRV, TC_MERGE_APPEND },
  { "initramfs-args", TC_KT_STRV, TC_MERGE_APPEND },
  { "no-initramfs", TC_KT_BOOL, TC_MERGE_FIRST },
  { "readonly-executables", TC_KT_BOOL, TC_MERGE_FIRST },
  { "boot-location", TC_KT_ENUM, TC_MERGE_FIRST, IMPL, boot_location_values },
  { "tmp-is-dir", TC_KT_BOOL, TC_MERGE_FIRST, IMPL },
  { "opt-usrlocal", TC_KT_ENUM, TC_MERGE_FIRST, 0, opt_usrlocal_values },
  { "opt-usrlocal-overlays", TC_KT_BOOL, TC_MERGE_FIRST },
  { "units", TC_KT_STRV, TC_MERGE_APPEND, IMPL },
  { "default-target", TC_KT_STRING, TC_MERGE_FIRST, IMPL },
  { "machineid-compat", TC_KT_BOOL, TC_MERGE_FIRST, IMPL },
  { "releasever", TC_KT_RELEASEVER, TC_MERGE_FIRST, IMPL },
  { "automatic-version-prefix", TC_KT_STRING, TC_MERGE_FIRST, IMPL | SUBST },
  { "automatic-version-suffix", TC_KT_STRING, TC_MERGE_FIRST, IMPL },
  { "mutate-os-release", TC_KT_STRING, TC_MERGE_FIRST, IMPL | SUBST },
  { "etc-group-members", TC_KT_STRV, TC_MERGE_APPEND, IMPL },
  { "preserve-passwd", TC_KT_BOOL, TC_MERGE_FIRST },
  { "check-passwd", TC_KT_CHECK, TC_MERGE_FIRST, IMPL },
  { "check-groups", TC_KT_CHECK, TC_MERGE_FIRST, IMPL },
  { "ignore-removed-users", TC_KT_STRV, TC_MERGE_UNION },
  { "ignore-removed-groups", TC_KT_STRV, TC_MERGE_UNION },
  { "postprocess-script", TC_KT_STRING, TC_MERGE_FIRST, IMPL },
  { "postprocess", TC_KT_STRV, TC_MERGE_APPEND, IMPL },
  { "add-files", TC_KT_ADD_FILES, TC_MERGE_APPEND, IMPL },
  { "remove-files", TC_KT_STRV, TC_MERGE_APPEND, IMPL },
  { "remove-from-packages", TC_KT_STRV_LIST, TC_MERGE_APPEND, IMPL },
  { "add-commit-metadata", TC_KT_MAP, TC_MERGE_MAP, IMPL | SUBST },
  { "repo-metadata", TC_KT_ENUM, TC_MERGE_FIRST, 0, metadata_target_values },
  { "advisories-metadata", TC_KT_ENUM, TC_MERGE_FIRST, 0, metadata_target_values },
  { "rpmdb", TC_KT_ENUM, TC_MERGE_FIRST, IMPL, rpmdb_values },
  { "rpmdb-normalize", TC_KT_BOOL, TC_MERGE_FIRST },
  { "container-cmd", TC_KT_STRV, TC_MERGE_FIRST },
};

const TcTreefileKey *
tc_treefile_keys (guint *out_n_keys)
{
  *out_n_keys = G_N_ELEMENTS (key_specs);
  return key_specs;
}

/* packages-$basearch: folded into packages while loading. */
static const TcTreefileKey arch_packages_spec
    = { "packages-ARCH", TC_KT_STRV, TC_MERGE_CONSUMED, IMPL };

const char *
tc_treefile_describe (JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return "nothing";
  if (JSON_NODE_HOLDS_OBJECT (node))
    return "a map";
  if (JSON_NODE_HOLDS_ARRAY (node))
    return "a list";
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    default:
      return "a number";
    }
}

gboolean
tc_treefile_throw_at (GError **error, TcTreefileFragment *frag, JsonNode *node, int fallback,
                      const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  int line = tc_treefile_doc_line (frag->doc, node, fallback);
  return tc_throw (error, "%s:%d: %s", frag->origin.path, line, msg);
}

const TcTreefileKey *
tc_treefile_key_find (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (key_specs); i++)
    if (g_str_equal (key_specs[i].name, name))
      return &key_specs[i];
  return NULL;
}

/* Any key may be spelled with underscores (rpm-ostree's legacy gpg_key, boot_location, ...);
 * packages-$basearch keeps the arch as written. */
const TcTreefileKey *
tc_treefile_key_canonicalize (const char *name, char **out_canonical)
{
  const TcTreefileKey *spec = tc_treefile_key_find (name);
  if (spec)
    {
      *out_canonical = g_strdup (name);
      return spec;
    }
  g_autofree char *dashed = g_strdelimit (g_strdup (name), "_", '-');
  spec = tc_treefile_key_find (dashed);
  if (spec)
    {
      *out_canonical = g_steal_pointer (&dashed);
      return spec;
    }
  if ((g_str_has_prefix (name, "packages-") || g_str_has_prefix (name, "packages_"))
      && name[strlen ("packages-")] != '\0')
    {
      *out_canonical = g_strconcat ("packages-", name + strlen ("packages-"), NULL);
      return &arch_packages_spec;
    }
  return NULL;
}

gboolean
tc_treefile_key_is_implemented (const char *key)
{
  const TcTreefileKey *spec = tc_treefile_key_find (key);
  if (spec)
    return (spec->flags & TC_KEY_IMPLEMENTED) != 0;
  return g_str_has_prefix (key, "packages-");
}

/* Conditions: "VAR OP VALUE" with OP one of == != > >= < <= and VALUE true, false, a number or
 * a double-quoted string, as rpm-ostree; also a bare "VAR" naming a boolean. */

typedef enum
{
  OP_EQ,
  OP_NE,
  OP_GT,
  OP_GE,
  OP_LT,
  OP_LE,
  OP_IS_TRUE,
} CondOp;

typedef struct
{
  char *variable;
  CondOp op;
  JsonNode *value;
} Condition;

static void
condition_clear (Condition *cond)
{
  g_clear_pointer (&cond->variable, g_free);
  g_clear_pointer (&cond->value, json_node_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Condition, condition_clear)

static gboolean
parse_condition (const char *text, Condition *out)
{
  static const struct
  {
    const char *text;
    CondOp op;
  } ops[] = {
    { "==", OP_EQ }, { "!=", OP_NE }, { ">=", OP_GE },
    { "<=", OP_LE }, { ">", OP_GT },  { "<", OP_LT },
  };
  const char *p = text;
  while (g_ascii_isspace (*p))
    p++;
  const char *var = p;
  while (g_ascii_isalnum (*p) || *p == '_')
    p++;
  if (p == var)
    return FALSE;
  out->variable = g_strndup (var, p - var);
  while (g_ascii_isspace (*p))
    p++;
  if (*p == '\0')
    {
      out->op = OP_IS_TRUE;
      return TRUE;
    }
  const char *op = p;
  while (*p != '\0' && strchr ("=!<>", *p))
    p++;
  g_autofree char *op_text = g_strndup (op, p - op);
  guint i;
  for (i = 0; i < G_N_ELEMENTS (ops); i++)
    if (g_str_equal (ops[i].text, op_text))
      break;
  if (i == G_N_ELEMENTS (ops))
    return FALSE;
  out->op = ops[i].op;
  while (g_ascii_isspace (*p))
    p++;
  g_autofree char *rest = g_strchomp (g_strdup (p));
  gsize len = strlen (rest);
  guint64 number;
  if (len >= 2 && rest[0] == '"' && rest[len - 1] == '"')
    {
      rest[len - 1] = '\0';
      out->value = tc_json_string_node (rest + 1);
    }
  else if (g_str_equal (rest, "true") || g_str_equal (rest, "false"))
    out->value = json_node_init_boolean (json_node_alloc (), g_str_equal (rest, "true"));
  else if (len > 0 && strspn (rest, "0123456789") == len
           && g_ascii_string_to_unsigned (rest, 10, 0, G_MAXINT64, &number, NULL))
    out->value = json_node_init_int (json_node_alloc (), (gint64)number);
  else
    return FALSE;
  return TRUE;
}

gboolean
tc_treefile_eval_condition (TcTreefileFragment *frag, JsonObject *vars, const char *text,
                            JsonNode *where, int line, gboolean *out_result, GError **error)
{
  g_auto (Condition) cond = { 0 };
  if (!parse_condition (text, &cond))
    return tc_treefile_throw_at (error, frag, where, line,
                                 "conditional-include: invalid condition \"%s\"", text);
  JsonNode *var = json_object_has_member (vars, cond.variable)
                      ? json_object_get_member (vars, cond.variable)
                      : NULL;
  if (!var)
    return tc_treefile_throw_at (error, frag, where, line,
                                 "conditional-include: undefined variable \"%s\" in \"%s\"",
                                 cond.variable, text);
  if (cond.op == OP_IS_TRUE)
    {
      if (!tc_json_is_bool (var))
        return tc_treefile_throw_at (
            error, frag, where, line,
            "conditional-include: \"%s\": variable \"%s\" is %s, not a boolean", text,
            cond.variable, tc_treefile_describe (var));
      *out_result = json_node_get_boolean (var);
      return TRUE;
    }
  GType type = json_node_get_value_type (var);
  if (type != json_node_get_value_type (cond.value))
    return tc_treefile_throw_at (
        error, frag, where, line,
        "conditional-include: \"%s\": variable \"%s\" is %s, compared with %s", text, cond.variable,
        tc_treefile_describe (var), tc_treefile_describe (cond.value));
  int cmp;
  if (type == G_TYPE_STRING)
    cmp = strcmp (json_node_get_string (var), json_node_get_string (cond.value));
  else if (type == G_TYPE_BOOLEAN)
    cmp = json_node_get_boolean (var) - json_node_get_boolean (cond.value);
  else
    {
      gint64 a = json_node_get_int (var), b = json_node_get_int (cond.value);
      cmp = a < b ? -1 : a > b ? 1 : 0;
    }
  if (cond.op != OP_EQ && cond.op != OP_NE && type != G_TYPE_INT64)
    return tc_treefile_throw_at (error, frag, where, line,
                                 "conditional-include: \"%s\": only numbers can be ordered", text);
  switch (cond.op)
    {
    case OP_EQ:
      *out_result = cmp == 0;
      break;
    case OP_NE:
      *out_result = cmp != 0;
      break;
    case OP_GT:
      *out_result = cmp > 0;
      break;
    case OP_GE:
      *out_result = cmp >= 0;
      break;
    case OP_LT:
      *out_result = cmp < 0;
      break;
    case OP_LE:
      *out_result = cmp <= 0;
      break;
    case OP_IS_TRUE:
      g_assert_not_reached ();
    }
  return TRUE;
}

/* Validation of each key's value, naming file, line and key */

static gboolean
expect_strv (TcTreefileFragment *frag, const char *key, JsonNode *node, int line, GError **error)
{
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return tc_treefile_throw_at (error, frag, node, line,
                                 "key \"%s\": expected a list of strings, got %s", key,
                                 tc_treefile_describe (node));
  JsonArray *array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      if (!tc_json_is_string (element))
        return tc_treefile_throw_at (error, frag, element, line,
                                     "key \"%s\": expected a list of strings, but item %u is %s",
                                     key, i + 1, tc_treefile_describe (element));
    }
  return TRUE;
}

static gboolean
expect_include (TcTreefileFragment *frag, const char *key, JsonNode *node, int line, GError **error)
{
  if (tc_json_is_string (node) || tc_json_is_strv (node))
    return TRUE;
  return tc_treefile_throw_at (error, frag, node, line,
                               "key \"%s\": expected a path or a list of paths, got %s", key,
                               tc_treefile_describe (node));
}

static gboolean
expect_object (TcTreefileFragment *frag, const char *key, JsonNode *node, int line, GError **error)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    return TRUE;
  return tc_treefile_throw_at (error, frag, node, line, "key \"%s\": expected a map, got %s", key,
                               tc_treefile_describe (node));
}

/* Checks that @object has only the members in @allowed, and strings for those in @strings
 * (each "name" required, "name?" optional). */
static gboolean
expect_members (TcTreefileFragment *frag, const char *key, JsonNode *node, int line,
                const char *const *allowed, const char *const *strings, GError **error)
{
  if (!expect_object (frag, key, node, line, error))
    return FALSE;
  JsonObject *object = json_node_get_object (node);
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    if (!g_strv_contains (allowed, name))
      return tc_treefile_throw_at (error, frag, member, line, "key \"%s\": unknown field \"%s\"",
                                   key, name);
  for (guint i = 0; strings && strings[i]; i++)
    {
      g_autofree char *field = g_strdup (strings[i]);
      gboolean optional = g_str_has_suffix (field, "?");
      if (optional)
        field[strlen (field) - 1] = '\0';
      JsonNode *value = json_object_get_member (object, field);
      if (value == NULL && optional)
        continue;
      if (!tc_json_is_string (value))
        return tc_treefile_throw_at (error, frag, value ? value : node, line,
                                     "key \"%s\": field \"%s\" must be a string, got %s", key,
                                     field, tc_treefile_describe (value));
    }
  return TRUE;
}

/* An inline conditional-include is a treefile without includes or variables of its own. It is
 * checked here even when its condition turns out false. */
static gboolean
validate_inline (TcTreefileFragment *frag, JsonNode *node, int line, GError **error)
{
  JsonObject *object = json_node_get_object (node);
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    {
      int key_line = tc_treefile_doc_key_line (frag->doc, object, name,
                                               tc_treefile_doc_line (frag->doc, value, line));
      g_autofree char *canonical = NULL;
      const TcTreefileKey *spec = tc_treefile_key_canonicalize (name, &canonical);
      if (spec == NULL)
        return tc_throw (error, "%s:%d: unknown key \"%s\"", frag->origin.path, key_line, name);
      if (spec->type == TC_KT_INCLUDE || spec->type == TC_KT_ARCH_INCLUDE
          || spec->type == TC_KT_CONDITIONAL_INCLUDE || spec->type == TC_KT_VARIABLES)
        return tc_throw (error, "%s:%d: key \"%s\" cannot be used in an inline conditional-include",
                         frag->origin.path, key_line, name);
      if (!JSON_NODE_HOLDS_NULL (value)
          && !tc_treefile_validate_value (frag, spec, canonical, value, key_line, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
validate_conditional_include (TcTreefileFragment *frag, const char *key, JsonNode *node, int line,
                              GError **error)
{
  static const char *const fields[] = { "if", "include", NULL };
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return tc_treefile_throw_at (error, frag, node, line, "key \"%s\": expected a list, got %s",
                                 key, tc_treefile_describe (node));
  JsonArray *array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *entry = json_array_get_element (array, i);
      if (!expect_members (frag, key, entry, line, fields, NULL, error))
        return FALSE;
      JsonObject *obj = json_node_get_object (entry);
      JsonNode *cond = json_object_get_member (obj, "if");
      JsonNode *inc = json_object_get_member (obj, "include");
      if (!cond || !inc)
        return tc_treefile_throw_at (error, frag, entry, line,
                                     "key \"%s\": each entry needs \"if\" and \"include\"", key);
      if (!tc_json_is_string (cond) && !tc_json_is_strv (cond))
        return tc_treefile_throw_at (
            error, frag, cond, line,
            "key \"%s\": \"if\" must be a condition or a list of conditions", key);
      g_autoptr (GPtrArray) texts = g_ptr_array_new ();
      if (tc_json_is_string (cond))
        g_ptr_array_add (texts, (char *)json_node_get_string (cond));
      else
        for (guint j = 0; j < json_array_get_length (json_node_get_array (cond)); j++)
          g_ptr_array_add (texts,
                           (char *)json_array_get_string_element (json_node_get_array (cond), j));
      for (guint j = 0; j < texts->len; j++)
        {
          g_auto (Condition) parsed = { 0 };
          if (!parse_condition (texts->pdata[j], &parsed))
            return tc_treefile_throw_at (error, frag, cond, line,
                                         "key \"%s\": invalid condition \"%s\"", key,
                                         (char *)texts->pdata[j]);
        }
      if (!JSON_NODE_HOLDS_OBJECT (inc) && !expect_include (frag, key, inc, line, error))
        return FALSE;
      if (JSON_NODE_HOLDS_OBJECT (inc) && !validate_inline (frag, inc, line, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
validate_list_item (TcTreefileFragment *frag, const TcTreefileKey *spec, const char *key,
                    JsonNode *item, guint i, int line, GError **error)
{
  static const char *const repo_fields[] = { "repo", "packages", NULL };
  static const char *const repo_strings[] = { "repo", NULL };
  guint n = JSON_NODE_HOLDS_ARRAY (item) ? json_array_get_length (json_node_get_array (item)) : 0;
  switch (spec->type)
    {
    case TC_KT_ADD_FILES:
      if (tc_json_is_strv (item) && n == 2)
        return TRUE;
      return tc_treefile_throw_at (
          error, frag, item, line,
          "key \"%s\": item %u must be a list of two strings [source, destination]", key, i + 1);
    case TC_KT_STRV_LIST:
      if (tc_json_is_strv (item) && n > 0)
        return TRUE;
      return tc_treefile_throw_at (error, frag, item, line,
                                   "key \"%s\": item %u must be a non-empty list of strings", key,
                                   i + 1);
    case TC_KT_OBJECT_LIST:
      return expect_object (frag, key, item, line, error);
    case TC_KT_REPO_PACKAGES:
      {
        if (!expect_members (frag, key, item, line, repo_fields, repo_strings, error))
          return FALSE;
        JsonNode *packages = json_object_get_member (json_node_get_object (item), "packages");
        if (packages == NULL)
          return tc_treefile_throw_at (error, frag, item, line,
                                       "key \"%s\": item %u has no \"packages\"", key, i + 1);
        return expect_strv (frag, key, packages, line, error);
      }
    default:
      g_assert_not_reached ();
    }
}

gboolean
tc_treefile_validate_value (TcTreefileFragment *frag, const TcTreefileKey *spec, const char *key,
                            JsonNode *node, int line, GError **error)
{
  switch (spec->type)
    {
    case TC_KT_STRING:
      if (tc_json_is_string (node))
        return TRUE;
      return tc_treefile_throw_at (error, frag, node, line, "key \"%s\": expected a string, got %s",
                                   key, tc_treefile_describe (node));
    case TC_KT_BOOL:
      if (tc_json_is_bool (node))
        return TRUE;
      return tc_treefile_throw_at (error, frag, node, line,
                                   "key \"%s\": expected true or false, got %s", key,
                                   tc_treefile_describe (node));
    case TC_KT_UINT:
      if (tc_json_is_uint (node))
        return TRUE;
      return tc_treefile_throw_at (error, frag, node, line,
                                   "key \"%s\": expected a non-negative integer, got %s", key,
                                   tc_treefile_describe (node));
    case TC_KT_RELEASEVER:
      if (tc_json_is_string (node) || tc_json_is_uint (node))
        return TRUE;
      return tc_treefile_throw_at (
          error, frag, node, line,
          "key \"%s\": expected a string or a non-negative integer, got %s", key,
          tc_treefile_describe (node));
    case TC_KT_ENUM:
      if (tc_json_is_string (node) && g_strv_contains (spec->values, json_node_get_string (node)))
        return TRUE;
      {
        g_autofree char *values = g_strjoinv ("\", \"", (char **)spec->values);
        return tc_treefile_throw_at (error, frag, node, line, "key \"%s\": expected one of \"%s\"",
                                     key, values);
      }
    case TC_KT_STRV:
      return expect_strv (frag, key, node, line, error);
    case TC_KT_INCLUDE:
      return expect_include (frag, key, node, line, error);
    case TC_KT_ARCH_INCLUDE:
    case TC_KT_VARIABLES:
    case TC_KT_STRING_MAP:
      {
        if (!expect_object (frag, key, node, line, error))
          return FALSE;
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;
        json_object_iter_init_ordered (&iter, json_node_get_object (node));
        while (json_object_iter_next_ordered (&iter, &name, &member))
          {
            if (spec->type == TC_KT_ARCH_INCLUDE
                && !expect_include (frag, key, member, line, error))
              return FALSE;
            if (spec->type == TC_KT_STRING_MAP && !tc_json_is_string (member))
              return tc_treefile_throw_at (error, frag, member, line,
                                           "key \"%s\": \"%s\" must be a string, got %s", key, name,
                                           tc_treefile_describe (member));
            if (spec->type != TC_KT_VARIABLES)
              continue;
            if (g_str_equal (name, "basearch") || g_str_equal (name, "releasever"))
              return tc_treefile_throw_at (error, frag, member, line,
                                           "key \"%s\": \"%s\" is reserved and set automatically",
                                           key, name);
            if (!tc_json_is_bool (member) && !tc_json_is_uint (member)
                && !tc_json_is_string (member))
              return tc_treefile_throw_at (
                  error, frag, member, line,
                  "key \"%s\": \"%s\" must be a boolean, a non-negative integer or "
                  "a string, got %s",
                  key, name, tc_treefile_describe (member));
          }
        return TRUE;
      }
    case TC_KT_CONDITIONAL_INCLUDE:
      return validate_conditional_include (frag, key, node, line, error);
    case TC_KT_MAP:
    case TC_KT_OBJECT:
      return expect_object (frag, key, node, line, error);
    case TC_KT_ADD_FILES:
    case TC_KT_STRV_LIST:
    case TC_KT_OBJECT_LIST:
    case TC_KT_REPO_PACKAGES:
      {
        if (!JSON_NODE_HOLDS_ARRAY (node))
          return tc_treefile_throw_at (error, frag, node, line,
                                       "key \"%s\": expected a list, got %s", key,
                                       tc_treefile_describe (node));
        JsonArray *array = json_node_get_array (node);
        for (guint i = 0; i < json_array_get_length (array); i++)
          if (!validate_list_item (frag, spec, key, json_array_get_element (array, i), i, line,
                                   error))
            return FALSE;
        return TRUE;
      }
    case TC_KT_CHECK:
      {
        static const char *const fields[] = { "type", "filename", "entries", NULL };
        static const char *const types[] = { "none", "previous", "file", "data", NULL };
        if (!expect_members (frag, key, node, line, fields, NULL, error))
          return FALSE;
        JsonObject *obj = json_node_get_object (node);
        JsonNode *type = json_object_get_member (obj, "type");
        if (!tc_json_is_string (type) || !g_strv_contains (types, json_node_get_string (type)))
          return tc_treefile_throw_at (
              error, frag, type ? type : node, line,
              "key \"%s\": \"type\" must be one of \"none\", \"previous\", \"file\", "
              "\"data\"",
              key);
        const char *t = json_node_get_string (type);
        if (g_str_equal (t, "file")
            && !tc_json_is_string (json_object_get_member (obj, "filename")))
          return tc_treefile_throw_at (error, frag, node, line,
                                       "key \"%s\": type \"file\" needs a \"filename\" string",
                                       key);
        JsonNode *entries = json_object_get_member (obj, "entries");
        if (g_str_equal (t, "data") && (entries == NULL || !JSON_NODE_HOLDS_OBJECT (entries)))
          return tc_treefile_throw_at (error, frag, node, line,
                                       "key \"%s\": type \"data\" needs an \"entries\" map", key);
        return TRUE;
      }
    case TC_KT_ROJIG:
      {
        static const char *const fields[] = { "name", "summary", "license", "description", NULL };
        static const char *const strings[] = { "name", "summary", "license", "description?", NULL };
        return expect_members (frag, key, node, line, fields, strings, error);
      }
    case TC_KT_MODULES:
      {
        static const char *const fields[] = { "enable", "install", NULL };
        if (!expect_members (frag, key, node, line, fields, NULL, error))
          return FALSE;
        for (guint i = 0; fields[i]; i++)
          {
            JsonNode *v = json_object_get_member (json_node_get_object (node), fields[i]);
            if (v && !expect_strv (frag, key, v, line, error))
              return FALSE;
          }
        return TRUE;
      }
    }
  g_assert_not_reached ();
}
