/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl db: the package lists of composed commits (list, diff), read in-process. */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "tc-pkgdiff.h"
#include "tc-sysroot.h"
#include "tc-util.h"
#include "treectl-builtins.h"
#include "treectl-pkgdiff.h"

static char *opt_repo;
static gboolean opt_json;

static GOptionEntry entries[] = {
  { "repo", 0, 0, G_OPTION_ARG_FILENAME, &opt_repo,
    "Read commits from the ostree repository at PATH (default: the sysroot's ostree/repo)",
    "PATH" },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON (see README.md for its keys)", NULL },
  { NULL },
};

/* Where revisions are looked up: a repository, and the sysroot it belongs to (if any). */
typedef struct
{
  char *repo_path;
  OstreeRepo *repo;
  char *sysroot_path;     /* NULL with --repo */
  OstreeSysroot *sysroot; /* loaded when a default deployment is needed */
} DbSource;

static void
db_source_free (DbSource *src)
{
  g_free (src->repo_path);
  g_clear_object (&src->repo);
  g_free (src->sysroot_path);
  g_clear_object (&src->sysroot);
  g_free (src);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DbSource, db_source_free)

static DbSource *
db_source_open (GCancellable *cancellable, GError **error)
{
  g_autoptr (DbSource) src = g_new0 (DbSource, 1);
  if (opt_repo && treectl_opt_sysroot)
    return (tc_throw (error, "--repo and --sysroot cannot be combined"), NULL);
  if (opt_repo)
    {
      src->repo_path = g_strdup (opt_repo);
      g_autofree char *config = g_build_filename (opt_repo, "config", NULL);
      g_autofree char *objects = g_build_filename (opt_repo, "objects", NULL);
      if (!g_file_test (config, G_FILE_TEST_IS_REGULAR)
          || !g_file_test (objects, G_FILE_TEST_IS_DIR))
        return (tc_throw (error, "%s: not an ostree repository", opt_repo), NULL);
    }
  else
    {
      src->sysroot_path = g_strdup (treectl_opt_sysroot ? treectl_opt_sysroot : "/");
      if (!tc_sysroot_check_path (src->sysroot_path, error))
        return NULL;
      src->repo_path = g_build_filename (src->sysroot_path, "ostree", "repo", NULL);
    }
  g_autoptr (GFile) repo_file = g_file_new_for_path (src->repo_path);
  src->repo = ostree_repo_new (repo_file);
  if (!ostree_repo_open (src->repo, cancellable, error))
    {
      g_prefix_error (error, "opening repository %s: ", src->repo_path);
      return NULL;
    }
  return g_steal_pointer (&src);
}

/* @rev as a commit checksum that exists in the repository. Trailing "^"s are walked here:
 * libostree 2022.7 crashes resolving "MISSING^" when asked to allow missing refs. */
static char *
resolve_commit (DbSource *src, const char *rev, GError **error)
{
  gsize base_len = strlen (rev);
  guint n_parents = 0;
  while (base_len > 0 && rev[base_len - 1] == '^')
    base_len--, n_parents++;
  g_autofree char *base = g_strndup (rev, base_len);
  g_autofree char *checksum = NULL;
  g_autoptr (GError) local_error = NULL;
  if (*base && !ostree_repo_resolve_rev (src->repo, base, TRUE, &checksum, &local_error)
      && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", rev);
      return NULL;
    }
  for (guint i = 0; checksum && i <= n_parents; i++)
    {
      g_autoptr (GVariant) commit = NULL;
      if (!ostree_repo_load_variant_if_exists (src->repo, OSTREE_OBJECT_TYPE_COMMIT, checksum,
                                               &commit, error))
        return NULL;
      if (!commit)
        g_clear_pointer (&checksum, g_free);
      else if (i < n_parents)
        {
          g_autofree char *parent = ostree_commit_get_parent (commit);
          if (!parent)
            return (tc_throw (error, "%s: commit %s has no parent", rev, checksum), NULL);
          g_free (checksum);
          checksum = g_steal_pointer (&parent);
        }
    }
  if (!checksum)
    return (tc_throw (error, "%s: no such ref or commit in %s", rev, src->repo_path), NULL);
  return g_steal_pointer (&checksum);
}

/* The sysroot's default (first) deployment and, when @out_rollback is given, the rollback:
 * the next deployment of the same stateroot. */
static gboolean
get_default_deployments (DbSource *src, OstreeDeployment **out_default,
                         OstreeDeployment **out_rollback, GCancellable *cancellable, GError **error)
{
  if (!src->sysroot_path)
    return tc_throw (error, "with --repo, name the commits to compare (FROM and TO)");
  if (!src->sysroot && !tc_sysroot_open (src->sysroot_path, &src->sysroot, cancellable, error))
    return FALSE;
  g_autoptr (GPtrArray) deployments = ostree_sysroot_get_deployments (src->sysroot);
  if (deployments->len == 0)
    return tc_throw (error, "%s: no deployments", src->sysroot_path);
  OstreeDeployment *first = deployments->pdata[0];
  OstreeDeployment *rollback = NULL;
  for (guint i = 1; i < deployments->len && !rollback; i++)
    if (g_str_equal (ostree_deployment_get_osname (deployments->pdata[i]),
                     ostree_deployment_get_osname (first)))
      rollback = deployments->pdata[i];
  if (out_rollback && !rollback)
    return tc_throw (error, "%s: no rollback deployment to compare with; give FROM",
                     src->sysroot_path);
  *out_default = g_object_ref (first);
  if (out_rollback)
    *out_rollback = g_object_ref (rollback);
  return TRUE;
}

static void
add_member_string (JsonBuilder *b, const char *key, const char *value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, value);
}

static void
add_package_json (JsonBuilder *b, const TcPackage *pkg)
{
  g_autofree char *nevra = tc_package_get_nevra (pkg);
  json_builder_begin_object (b);
  add_member_string (b, "name", pkg->name);
  add_member_string (b, "epoch", pkg->epoch);
  add_member_string (b, "version", pkg->version);
  add_member_string (b, "release", pkg->release);
  add_member_string (b, "arch", pkg->arch);
  add_member_string (b, "nevra", nevra);
  json_builder_end_object (b);
}

static void
add_packages_json (JsonBuilder *b, const char *key, GPtrArray *packages)
{
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  for (guint i = 0; i < packages->len; i++)
    add_package_json (b, packages->pdata[i]);
  json_builder_end_array (b);
}

static void
add_changes_json (JsonBuilder *b, const char *key, GPtrArray *changes)
{
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  for (guint i = 0; i < changes->len; i++)
    {
      const TcPackageChange *change = changes->pdata[i];
      g_autofree char *from = tc_package_get_evr (change->old_pkg);
      g_autofree char *to = tc_package_get_evr (change->new_pkg);
      json_builder_begin_object (b);
      add_member_string (b, "name", change->new_pkg->name);
      add_member_string (b, "arch", change->new_pkg->arch);
      add_member_string (b, "from", from);
      add_member_string (b, "to", to);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
print_json (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

static int
db_diff (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr (GOptionContext) context
      = g_option_context_new ("[FROM] [TO] - show how the packages of two commits differ");
  g_option_context_set_description (
      context,
      "FROM and TO are refs, commit checksums (or unique prefixes) or REF^ for a ref's\n"
      "parent. Without them, FROM is the sysroot's rollback deployment and TO its default\n"
      "deployment; with only FROM, TO is the default deployment.\n\n"
      "--json prints {\"from\": CHECKSUM, \"to\": CHECKSUM, \"added\": [PKG...],\n"
      "\"removed\": [PKG...], \"upgraded\": [CHANGE...], \"downgraded\": [CHANGE...]} where\n"
      "PKG is {\"name\", \"epoch\", \"version\", \"release\", \"arch\", \"nevra\"} (strings) and\n"
      "CHANGE is {\"name\", \"arch\", \"from\": EVR, \"to\": EVR}; each list is sorted by name.");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_NONE, error))
    return 1;
  if (argc > 3)
    return (tc_throw (error, "too many arguments: db diff takes at most FROM and TO (got \"%s\")",
                      argv[3]),
            1);
  const char *from_rev = argc > 1 ? argv[1] : NULL;
  const char *to_rev = argc > 2 ? argv[2] : NULL;
  g_autoptr (DbSource) src = db_source_open (cancellable, error);
  if (!src)
    return 1;

  g_autofree char *from = NULL, *to = NULL;
  g_autofree char *from_label = NULL, *to_label = NULL;
  if (!from_rev || !to_rev)
    {
      g_autoptr (OstreeDeployment) default_deployment = NULL;
      g_autoptr (OstreeDeployment) rollback_deployment = NULL;
      if (!get_default_deployments (src, &default_deployment,
                                    from_rev ? NULL : &rollback_deployment, cancellable, error))
        return 1;
      to = g_strdup (ostree_deployment_get_csum (default_deployment));
      to_label = g_strdup ("default deployment");
      if (rollback_deployment)
        {
          from = g_strdup (ostree_deployment_get_csum (rollback_deployment));
          from_label = g_strdup ("rollback deployment");
        }
    }
  if (from_rev)
    {
      from = resolve_commit (src, from_rev, error);
      if (!from)
        return 1;
      from_label = g_strdup (from_rev);
    }
  if (to_rev)
    {
      to = resolve_commit (src, to_rev, error);
      if (!to)
        return 1;
      to_label = g_strdup (to_rev);
    }

  g_autoptr (GPtrArray) from_packages = NULL;
  g_autoptr (GPtrArray) to_packages = NULL;
  if (!tc_pkglist_load_commit (src->repo, from, &from_packages, cancellable, error)
      || !tc_pkglist_load_commit (src->repo, to, &to_packages, cancellable, error))
    return 1;
  g_autoptr (TcPkgDiff) diff = tc_pkgdiff_new (from_packages, to_packages);

  if (opt_json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      add_member_string (b, "from", from);
      add_member_string (b, "to", to);
      add_packages_json (b, "added", diff->added);
      add_packages_json (b, "removed", diff->removed);
      add_changes_json (b, "upgraded", diff->upgraded);
      add_changes_json (b, "downgraded", diff->downgraded);
      json_builder_end_object (b);
      print_json (b);
      return 0;
    }
  g_print ("ostree diff commit from: %s (%s)\n", from_label, from);
  g_print ("ostree diff commit to:   %s (%s)\n", to_label, to);
  if (tc_pkgdiff_is_empty (diff))
    {
      g_print ("No changes.\n");
      return 0;
    }
  treectl_print_pkgdiff (diff, "");
  return 0;
}

static gboolean
matches_any (const TcPackage *pkg, char **patterns, int n_patterns)
{
  if (n_patterns == 0)
    return TRUE;
  for (int i = 0; i < n_patterns; i++)
    if (fnmatch (patterns[i], pkg->name, 0) == 0)
      return TRUE;
  return FALSE;
}

static int
db_list (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr (GOptionContext) context
      = g_option_context_new ("[REV [PATTERN...]] - list the packages of a commit");
  g_option_context_set_description (
      context, "REV is a ref, a commit checksum (or unique prefix) or REF^ for a ref's parent;\n"
               "without it, the sysroot's default deployment. PATTERNs are shell globs (*, ?, "
               "[...]) matched\n"
               "against package names. Packages print as NAME-[EPOCH:]VERSION-RELEASE.ARCH.\n\n"
               "--json prints {\"commit\": CHECKSUM, \"packages\": [PKG...]} where PKG is\n"
               "{\"name\", \"epoch\", \"version\", \"release\", \"arch\", \"nevra\"} (strings).");
  if (!treectl_option_context_parse (context, entries, &argc, &argv, TREECTL_OPT_NONE, error))
    return 1;
  g_autoptr (DbSource) src = db_source_open (cancellable, error);
  if (!src)
    return 1;
  g_autofree char *commit = NULL;
  if (argc > 1)
    commit = resolve_commit (src, argv[1], error);
  else
    {
      g_autoptr (OstreeDeployment) default_deployment = NULL;
      if (get_default_deployments (src, &default_deployment, NULL, cancellable, error))
        commit = g_strdup (ostree_deployment_get_csum (default_deployment));
    }
  if (!commit)
    return 1;
  g_autoptr (GPtrArray) packages = NULL;
  if (!tc_pkglist_load_commit (src->repo, commit, &packages, cancellable, error))
    return 1;

  char **patterns = argc > 2 ? argv + 2 : NULL;
  int n_patterns = argc > 2 ? argc - 2 : 0;
  g_autoptr (GPtrArray) shown = g_ptr_array_new ();
  for (guint i = 0; i < packages->len; i++)
    if (matches_any (packages->pdata[i], patterns, n_patterns))
      g_ptr_array_add (shown, packages->pdata[i]);

  if (opt_json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      add_member_string (b, "commit", commit);
      add_packages_json (b, "packages", shown);
      json_builder_end_object (b);
      print_json (b);
      return 0;
    }
  for (guint i = 0; i < shown->len; i++)
    {
      g_autofree char *nevra = tc_package_get_nevra (shown->pdata[i]);
      g_print ("%s\n", nevra);
    }
  return 0;
}

typedef struct
{
  const char *name;
  TreectlBuiltin fn;
  const char *summary;
} DbCommand;

static const DbCommand subcommands[] = {
  { "list", db_list, "List the packages of a commit" },
  { "diff", db_diff, "Show packages added, removed, upgraded and downgraded between commits" },
  { NULL },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: treectl db SUBCOMMAND [OPTION...]\n\n"
                "Read the package lists of composed commits (in-process, no daemon).\n\n"
                "Subcommands:\n");
  for (const DbCommand *c = subcommands; c->name; c++)
    fprintf (out, "  %-6s %s\n", c->name, c->summary);
  fprintf (out, "\nRun 'treectl db SUBCOMMAND --help' for its options.\n");
}

int
treectl_builtin_db (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  if (argc < 2)
    {
      print_usage (stderr);
      return (tc_throw (error, "db needs a subcommand (list or diff)"), 1);
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      print_usage (stdout);
      return 0;
    }
  for (const DbCommand *c = subcommands; c->name; c++)
    if (g_str_equal (c->name, argv[1]))
      {
        g_autofree char *prgname = g_strdup_printf ("treectl db %s", c->name);
        g_set_prgname (prgname);
        return c->fn (argc - 1, argv + 1, cancellable, error);
      }
  print_usage (stderr);
  return (tc_throw (error, "unknown db subcommand \"%s\"", argv[1]), 1);
}
