/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl status: deployments in boot order, as a table or versioned JSON. */
#include "config.h"

#include <json-glib/json-glib.h>

#include "treectl-builtins.h"
#include "treectl-client.h"
#include "treectl-pkgdiff.h"

/* Bumped when a key changes meaning or disappears; new keys do not bump it. */
#define STATUS_JSON_VERSION 1

static gboolean opt_json;
static gboolean opt_verbose;

static GOptionEntry entries[] = {
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON (see README.md for its keys)", NULL },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Show more detail", NULL },
  { NULL },
};

static const char *
lookup_str (GVariant *dict, const char *key)
{
  const char *value = NULL;
  g_variant_lookup (dict, key, "&s", &value);
  return value;
}

static gboolean
lookup_bool (GVariant *dict, const char *key)
{
  gboolean value = FALSE;
  g_variant_lookup (dict, key, "b", &value);
  return value;
}

static char *
format_timestamp (GVariant *dict)
{
  guint64 ts = 0;
  if (!g_variant_lookup (dict, "timestamp", "t", &ts))
    return g_strdup ("unknown");
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc ((gint64)ts);
  return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("unknown");
}

static void
print_field (const char *key, const char *value)
{
  g_print ("  %20s: %s\n", key, value);
}

/* -v: how the packages of @d differ from the reference deployment (the booted one, else the
 * default), when both commits carry a package list. */
static void
print_package_diff (GVariant *d, const char *reference, OstreeRepo *repo)
{
  const char *checksum = lookup_str (d, "checksum");
  if (!repo || !reference || !checksum || g_str_equal (reference, checksum))
    return;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(TcPkgDiff) diff
      = treectl_pkgdiff_for_commits (repo, reference, checksum, NULL, &local_error);
  if (!diff)
    return; /* not composed by treectl: no package list to compare */
  g_autofree char *summary = treectl_pkgdiff_summary (diff);
  g_autofree char *label
      = g_strdup_printf ("%s (against %.12s)", summary, reference);
  print_field ("PackageDiff", label);
  treectl_print_pkgdiff (diff, "                        ");
}

static void
print_text (GVariant *deployments, GVariant *active, const char *sysroot_path)
{
  const char *title = NULL, *sender = NULL, *address = NULL;
  g_variant_get (active, "(&s&s&s)", &title, &sender, &address);
  if (*title)
    g_print ("State: busy (transaction \"%s\"%s%s)\n", title, *sender ? " by " : "", sender);
  else
    g_print ("State: idle\n");
  if (opt_verbose)
    g_print ("Sysroot: %s\n", sysroot_path);
  gsize n = g_variant_n_children (deployments);
  if (n == 0)
    {
      g_print ("Deployments: none\n");
      return;
    }
  g_print ("Deployments:\n");
  g_autofree char *reference = NULL;
  /* -v reads package lists in-process; without the repository there is just no diff. */
  g_autoptr(OstreeRepo) repo
      = opt_verbose ? treectl_open_sysroot_repo (sysroot_path, NULL, NULL) : NULL;
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) d = g_variant_get_child_value (deployments, i);
      if (i == 0 || lookup_bool (d, "booted"))
        {
          g_free (reference);
          reference = g_strdup (lookup_str (d, "checksum"));
        }
    }
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) d = g_variant_get_child_value (deployments, i);
      const char *origin = lookup_str (d, "origin");
      const char *checksum = lookup_str (d, "checksum");
      const char *version = lookup_str (d, "version");
      g_autoptr(GString) roles = g_string_new ("");
      static const char *role_keys[] = { "booted", "default", "pending", "rollback", "pinned",
                                         "staged" };
      for (guint r = 0; r < G_N_ELEMENTS (role_keys); r++)
        if (lookup_bool (d, role_keys[r]))
          g_string_append_printf (roles, "%s%s", roles->len ? ", " : "", role_keys[r]);
      g_print ("%s %s%s%s%s\n", lookup_bool (d, "booted") ? "●" : " ",
               origin ? origin : "(unknown origin)", roles->len ? " (" : "", roles->str,
               roles->len ? ")" : "");
      g_autofree char *ts = format_timestamp (d);
      g_autofree char *version_line
          = g_strdup_printf ("%s (%s)", version ? version : "none", ts);
      print_field ("Version", version_line);
      if (opt_verbose)
        print_field ("Commit", checksum);
      else
        {
          g_autofree char *short_csum = g_strndup (checksum, 12);
          print_field ("Commit", short_csum);
        }
      const char *base = lookup_str (d, "base-checksum");
      if (base)
        {
          g_autofree char *short_base = opt_verbose ? g_strdup (base) : g_strndup (base, 12);
          print_field ("BaseCommit", short_base);
        }
      print_field ("StateRoot", lookup_str (d, "osname"));
      static const struct
      {
        const char *key, *label;
      } lists[] = { { "requested-packages", "LayeredPackages" },
                    { "requested-local-packages", "LocalPackages" },
                    { "requested-base-removals", "RemovedBasePackages" },
                    { "requested-base-local-replacements", "ReplacedBasePackages" } };
      for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
        {
          g_autofree const char **names = NULL;
          if (g_variant_lookup (d, lists[l].key, "^a&s", &names) && names[0])
            {
              g_autofree char *joined = g_strjoinv (" ", (char **)names);
              print_field (lists[l].label, joined);
            }
        }
      if (lookup_bool (d, "gpg-enabled"))
        print_field ("GPGSignature", lookup_str (d, "signature"));
      else
        print_field ("GPGSignature", "(remote does not verify signatures)");
      if (lookup_str (d, "override-commit"))
        print_field ("PinnedCommit", lookup_str (d, "override-commit"));
      if (lookup_str (d, "origin-error"))
        print_field ("OriginError", lookup_str (d, "origin-error"));
      if (opt_verbose)
        {
          print_field ("Id", lookup_str (d, "id"));
          print_field ("KernelArgs", lookup_str (d, "kargs"));
          print_package_diff (d, reference, repo);
        }
    }
}

static void
print_json (GVariant *deployments, GVariant *active, const char *sysroot_path)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "treectl-status-version");
  json_builder_add_int_value (b, STATUS_JSON_VERSION);
  json_builder_set_member_name (b, "sysroot");
  json_builder_add_string_value (b, sysroot_path);
  const char *title = NULL, *sender = NULL, *address = NULL;
  g_variant_get (active, "(&s&s&s)", &title, &sender, &address);
  json_builder_set_member_name (b, "transaction");
  if (*title)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "title");
      json_builder_add_string_value (b, title);
      json_builder_set_member_name (b, "sender");
      json_builder_add_string_value (b, sender);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "deployments");
  json_builder_add_value (b, json_gvariant_serialize (deployments));
  json_builder_end_object (b);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

int
treectl_builtin_status (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- show deployments");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_NONE, error))
    return 1;
  if (argc > 1)
    return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "status takes no arguments (got \"%s\")", argv[1]),
            1);
  g_autoptr(TreectlClient) client = treectl_client_connect (treectl_opt_sysroot, cancellable, error);
  if (!client)
    return 1;
  g_autoptr(GVariant) deployments
      = treectl_client_get_property (client, "Deployments", cancellable, error);
  if (!deployments)
    return 1;
  g_autoptr(GVariant) active
      = treectl_client_get_property (client, "ActiveTransaction", cancellable, error);
  if (!active)
    return 1;
  const char *path = treectl_sysroot_get_path (client->sysroot);
  /* A directory that is not a sysroot has nothing to show: say so instead of "none". */
  if (g_variant_n_children (deployments) == 0)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(TreectlOS) os = treectl_client_get_os (client, "", cancellable, &local_error);
      if (!os && !g_strrstr (local_error->message, "no deployments"))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return 1;
        }
    }
  if (opt_json)
    print_json (deployments, active, path ? path : "");
  else
    print_text (deployments, active, path ? path : "");
  return 0;
}
