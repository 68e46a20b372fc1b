/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Package layering: base commit + requested packages -> a local commit, and the
 * install/uninstall operation. Each step is one of compose's stages. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <rpm/rpmdb.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmts.h>
#include <solv/pool.h>
#include <solv/repo.h>
#include <solv/repo_rpmdb.h>
#include <solv/solvable.h>

#include "tc-assembler.h"
#include "tc-depsolve.h"
#include "tc-importer.h"
#include "tc-layer.h"
#include "tc-origin.h"
#include "tc-output.h"
#include "tc-pkgcache.h"
#include "tc-rpm-util.h"
#include "tc-rpmmd.h"
#include "tc-scripts.h"
#include "tc-sysroot.h"
#include "tc-upgrader.h"
#include "tc-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pool, pool_free)

#define RPMDB_DIR "usr/lib/sysimage/rpm"
#define BASE_REF_PREFIX "treectl/base/"
#define PKG_REF_PREFIX "treectl/pkg/"

static gboolean
commit_is_layer (GVariant *commit)
{
  g_autoptr(GVariant) md = g_variant_get_child_value (commit, 0);
  gboolean layer = FALSE;
  return g_variant_lookup (md, "treectl.clientlayer", "b", &layer) && layer;
}

char *
tc_layer_get_base (OstreeRepo *repo, const char *commit, GError **error)
{
  g_autoptr(GVariant) v = NULL;
  if (!ostree_repo_load_commit (repo, commit, &v, NULL, error))
    return NULL;
  if (!commit_is_layer (v))
    return g_strdup (commit);
  char *parent = ostree_commit_get_parent (v);
  if (!parent)
    return (tc_throw (error, "layered commit %s has no parent (base) commit", commit), NULL);
  return parent;
}

/* A private copy of the base's rpmdb under @dbroot: librpm may write next to its files. */
static gboolean
checkout_base_rpmdb (OstreeRepo *repo, const char *base, const char *dbroot,
                     GCancellable *cancellable, GError **error)
{
  g_autofree char *parent = g_build_filename (dbroot, "usr/lib/sysimage", NULL);
  if (g_mkdir_with_parents (parent, 0755) < 0)
    return tc_throw_errno_prefix (error, "mkdir %s", parent);
  OstreeRepoCheckoutAtOptions opts = { 0 };
  opts.mode = OSTREE_REPO_CHECKOUT_MODE_USER;
  opts.force_copy = TRUE;
  opts.subpath = "/" RPMDB_DIR;
  g_autofree char *dest = g_build_filename (dbroot, RPMDB_DIR, NULL);
  g_autoptr(GError) local_error = NULL;
  if (!ostree_repo_checkout_at (repo, &opts, AT_FDCWD, dest, base, cancellable, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return tc_throw (error, "base commit %.12s has no rpmdb at /%s: packages can only be "
                                "layered on a commit composed from RPMs",
                         base, RPMDB_DIR);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

/* The base's packages, read from its rpmdb with librpm, as the pool's installed repo. */
static gboolean
load_installed (Pool *pool, const char *dbroot, GError **error)
{
  if (!tc_rpm_init (error))
    return FALSE;
  Repo *installed = repo_create (pool, "@System");
  pool_set_installed (pool, installed);
  rpmPushMacro (NULL, "_dbpath", NULL, "/" RPMDB_DIR, RMIL_CMDLINE);
  g_auto(rpmts) ts = rpmtsCreate ();
  rpmtsSetRootDir (ts, dbroot);
  rpmtsSetVSFlags (ts, _RPMVSF_NOSIGNATURES | _RPMVSF_NODIGESTS);
  rpmdbMatchIterator mi = rpmtsInitIterator (ts, RPMDBI_PACKAGES, NULL, 0);
  void *state = rpm_state_create (pool, dbroot);
  Header h;
  while (mi && (h = rpmdbNextIterator (mi)) != NULL)
    {
      void *handle = rpm_byrpmh (state, h);
      if (handle)
        repo_add_rpm_handle (installed, handle, REPO_REUSE_REPODATA | REPO_NO_INTERNALIZE);
    }
  rpmdbFreeIterator (mi);
  rpm_state_free (state);
  rpmtsCloseDB (ts);
  rpmPopMacro (NULL, "_dbpath");
  repo_internalize (installed);
  if (installed->nsolvables == 0)
    return tc_throw (error, "the base commit's rpmdb lists no packages");
  return TRUE;
}

/* VERSION_ID of the base's os-release, for $releasever in .repo files. */
static char *
base_releasever (OstreeRepo *repo, const char *base)
{
  g_autoptr(GFile) root = NULL;
  if (!ostree_repo_read_commit (repo, base, &root, NULL, NULL, NULL))
    return NULL;
  g_autoptr(GFile) f = g_file_resolve_relative_path (root, "usr/lib/os-release");
  g_autofree char *contents = NULL;
  if (!g_file_load_contents (f, NULL, &contents, NULL, NULL, NULL))
    return NULL;
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  for (char **l = lines; *l; l++)
    if (g_str_has_prefix (*l, "VERSION_ID="))
      {
        g_autofree char *v = g_strdup (*l + strlen ("VERSION_ID="));
        return g_shell_unquote (v, NULL);
      }
  return NULL;
}

/* "name-[epoch:]version-release.arch" -> its package cache ref. */
static char *
ref_for_nevra (const char *nevra, GError **error)
{
  g_autofree char *rest = g_strdup (nevra);
  char *dot = strrchr (rest, '.');
  char *dash_rel = dot ? g_strrstr_len (rest, dot - rest, "-") : NULL;
  char *dash_ver = dash_rel ? g_strrstr_len (rest, dash_rel - rest, "-") : NULL;
  if (!dash_ver)
    return (tc_throw (error, "malformed package NEVRA \"%s\"", nevra), NULL);
  *dot = *dash_rel = *dash_ver = '\0';
  char *version = dash_ver + 1;
  char *colon = strchr (version, ':');
  const char *epoch = NULL;
  if (colon)
    {
      *colon = '\0';
      epoch = version;
      version = colon + 1;
    }
  return tc_importer_ref_for_nevra (rest, epoch, version, dash_rel + 1, dot + 1);
}

/* The local RPMs, from their package cache commits, as solvables of an "@commandline"
 * repo; their ids go to @out_ids. */
static gboolean
add_local_packages (OstreeRepo *repo, Pool *pool, const char *const *nevras, GArray *out_ids,
                    GError **error)
{
  if (!nevras || !nevras[0])
    return TRUE;
  Repo *cmdline = repo_create (pool, "@commandline");
  void *state = rpm_state_create (pool, NULL);
  gboolean ok = TRUE;
  for (const char *const *n = nevras; ok && *n; n++)
    {
      g_autofree char *ref = ref_for_nevra (*n, error);
      g_autofree char *commit = NULL;
      ok = ref != NULL && ostree_repo_resolve_rev (repo, ref, TRUE, &commit, error);
      if (ok && !commit)
        ok = tc_throw (error, "local package %s is no longer in the package cache; install its "
                              ".rpm file again",
                       *n);
      Header h = ok ? tc_assembler_load_header (repo, commit, error) : NULL;
      ok = ok && h != NULL;
      if (ok)
        {
          void *handle = rpm_byrpmh (state, h);
          Id id = handle ? repo_add_rpm_handle (cmdline, handle, REPO_REUSE_REPODATA
                                                                     | REPO_NO_INTERNALIZE)
                         : 0;
          if (!id)
            ok = tc_throw (error, "local package %s: libsolv cannot read its header", *n);
          else
            g_array_append_val (out_ids, id);
        }
      if (h)
        headerFree (h);
    }
  rpm_state_free (state);
  repo_internalize (cmdline);
  return ok;
}

static int
compare_pkglist_entries (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *)a, *(char *const *)b);
}

/* treectl.rpmdb.pkglist of base + layer: every installed and added solvable, by name. */
static GVariant *
build_pkglist (Pool *pool, const Queue *installs)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) by_line = g_hash_table_new (g_str_hash, g_str_equal);
  Id p;
  Solvable *s;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (Id));
  FOR_REPO_SOLVABLES (pool->installed, p, s)
  g_array_append_val (ids, p);
  for (int i = 0; i < installs->count; i++)
    g_array_append_val (ids, installs->elements[i]);
  for (guint i = 0; i < ids->len; i++)
    {
      Id id = g_array_index (ids, Id, i);
      char *line = g_strdup_printf ("%s\t%d", pool_solvid2str (pool, id), id);
      g_ptr_array_add (lines, line);
    }
  g_ptr_array_sort (lines, compare_pkglist_entries);
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(sssss)"));
  for (guint i = 0; i < lines->len; i++)
    {
      const char *tab = strrchr (lines->pdata[i], '\t');
      Id id = (Id)g_ascii_strtoll (tab + 1, NULL, 10);
      s = pool_id2solvable (pool, id);
      g_autofree char *epoch = NULL, *ver = NULL, *rel = NULL;
      tc_split_evr (pool_id2str (pool, s->evr), &epoch, &ver, &rel);
      g_variant_builder_add (&b, "(sssss)", pool_id2str (pool, s->name), epoch ? epoch : "0", ver,
                             rel, pool_id2str (pool, s->arch));
    }
  return g_variant_builder_end (&b);
}

static void
header_free (gpointer h)
{
  headerFree (h);
}

/* The layered packages can be added by merging trees when no scriptlet has to run in the
 * assembled root and no file needs an owner looked up in it. */
static gboolean
needs_root (OstreeRepo *repo, GPtrArray *pkg_commits, GPtrArray *headers, gboolean *out_needs,
            GError **error)
{
  *out_needs = tc_scripts_any (headers);
  for (guint i = 0; i < pkg_commits->len && !*out_needs; i++)
    {
      g_autoptr(GVariant) commit = NULL;
      if (!ostree_repo_load_commit (repo, pkg_commits->pdata[i], &commit, NULL, error))
        return FALSE;
      g_autoptr(GVariant) md = g_variant_get_child_value (commit, 0);
      g_autoptr(GVariant) files = g_variant_lookup_value (md, "treectl.nonroot-files", NULL);
      g_autoptr(GVariant) setid = g_variant_lookup_value (md, "treectl.nonroot-setid", NULL);
      *out_needs = files != NULL || setid != NULL;
    }
  return TRUE;
}

/* Base checkout (hardlinks), packages over it, scriptlets in bubblewrap, ownership, rpmdb,
 * then a commit of the whole root through the device/inode cache. */
static gboolean
assemble_in_root (OstreeRepo *repo, const char *base, const char *workdir, GPtrArray *pkg_commits,
                  GPtrArray *pkg_names, GPtrArray *headers, GVariant *metadata,
                  const char *subject, char **out_commit, GCancellable *cancellable,
                  GError **error)
{
  g_autofree char *rootfs = g_build_filename (workdir, "rootfs", NULL);
  g_autoptr(OstreeRepoDevInoCache) devino = ostree_repo_devino_cache_new ();
  OstreeRepoCheckoutAtOptions copts = { 0 };
  copts.mode = ostree_repo_get_mode (repo) == OSTREE_REPO_MODE_BARE
                   ? OSTREE_REPO_CHECKOUT_MODE_NONE
                   : OSTREE_REPO_CHECKOUT_MODE_USER;
  copts.no_copy_fallback = TRUE;
  copts.devino_to_csum_cache = devino;
  tc_output_task_begin ("Assembling base %.12s and %u packages", base, pkg_commits->len);
  if (!ostree_repo_checkout_at (repo, &copts, AT_FDCWD, rootfs, base, cancellable, error)
      || !tc_assembler_checkout (repo, pkg_commits, pkg_names, AT_FDCWD, rootfs, devino,
                                 cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("done");

  if (!tc_scripts_unshare_etc (rootfs, error))
    return FALSE;
  tc_output_task_begin ("Running scriptlets");
  if (!tc_scripts_run (rootfs, headers, pkg_names, NULL, cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("done");

  g_autofree char *rpmdb_dir = g_build_filename (rootfs, RPMDB_DIR, NULL);
  tc_output_task_begin ("Writing the rpmdb");
  if (!tc_assembler_apply_ownership (repo, pkg_commits, rootfs, error)
      /* librpm rewrites the database in place: its files are hardlinks to objects. */
      || !tc_break_hardlinks_below (rpmdb_dir, error)
      || !tc_assembler_write_rpmdb (repo, pkg_commits, rootfs, cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("done");

  tc_output_task_begin ("Committing");
  if (!tc_assembler_commit (repo, rootfs, devino, base, subject, metadata, NULL, out_commit, NULL,
                            cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("%.12s", *out_commit);
  return TRUE;
}

/* Writes the rpmdb directory @dbdir over the tree's usr/lib/sysimage/rpm. */
static gboolean
replace_rpmdb (OstreeRepo *repo, OstreeMutableTree *mtree, const char *dbdir,
               GCancellable *cancellable, GError **error)
{
  /* (ostree_mutable_tree_walk() stops at the parent of the last component.) */
  g_autoptr(OstreeMutableTree) dir = g_object_ref (mtree);
  g_auto(GStrv) parts = g_strsplit (RPMDB_DIR, "/", -1);
  for (char **p = parts; *p; p++)
    {
      g_autofree char *file = NULL;
      g_autoptr(OstreeMutableTree) sub = NULL;
      if (!ostree_mutable_tree_lookup (dir, *p, &file, &sub, error))
        return FALSE;
      if (!sub)
        return tc_throw (error, "/%s is not a directory in the base", RPMDB_DIR);
      g_set_object (&dir, sub);
    }
  return ostree_repo_write_dfd_to_mtree (repo, AT_FDCWD, dbdir, dir, NULL, cancellable, error);
}

/* No root at all: the base commit's tree with the package trees merged in and the rpmdb
 * (updated in @dbroot, the private copy read for depsolving) written over the base's. The
 * cost follows the size of the packages, not of the base. */
static gboolean
assemble_by_merge (OstreeRepo *repo, const char *base, const char *dbroot,
                   GPtrArray *pkg_commits, GPtrArray *pkg_names, GVariant *metadata,
                   const char *subject, char **out_commit, GCancellable *cancellable,
                   GError **error)
{
  tc_output_task_begin ("Writing the rpmdb");
  if (!tc_assembler_write_rpmdb (repo, pkg_commits, dbroot, cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("done");
  tc_output_task_begin ("Merging base %.12s and %u packages", base, pkg_commits->len);
  if (!ostree_repo_prepare_transaction (repo, NULL, cancellable, error))
    return FALSE;
  g_autoptr(OstreeMutableTree) mtree = ostree_mutable_tree_new_from_commit (repo, base, error);
  g_autofree char *dbdir = g_build_filename (dbroot, RPMDB_DIR, NULL);
  if (!mtree || !tc_assembler_merge_into_mtree (repo, mtree, pkg_commits, pkg_names, error)
      || !replace_rpmdb (repo, mtree, dbdir, cancellable, error))
    {
      ostree_repo_abort_transaction (repo, NULL, NULL);
      tc_output_task_end ("failed");
      return FALSE;
    }
  if (!tc_assembler_finish_commit (repo, mtree, base, subject, metadata, NULL, out_commit, NULL,
                                   cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("%.12s", *out_commit);
  return TRUE;
}

static gboolean
assemble_and_commit (OstreeRepo *repo, const char *base, const char *workdir, const char *dbroot,
                     Pool *pool, const Queue *installs, GPtrArray *pkg_commits,
                     GPtrArray *pkg_names, const char *const *requested,
                     const char *const *requested_local, char **out_commit,
                     GCancellable *cancellable, GError **error)
{
  g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (header_free);
  for (guint i = 0; i < pkg_commits->len; i++)
    {
      Header h = tc_assembler_load_header (repo, pkg_commits->pdata[i], error);
      if (!h)
        return FALSE;
      g_ptr_array_add (headers, h);
    }

  g_autoptr(GVariant) base_commit = NULL;
  if (!ostree_repo_load_commit (repo, base, &base_commit, NULL, error))
    return FALSE;
  g_autoptr(GVariant) base_md = g_variant_get_child_value (base_commit, 0);
  g_auto(GVariantDict) md;
  g_variant_dict_init (&md, base_md);
  g_variant_dict_remove (&md, "treectl.inputhash");
  g_variant_dict_insert (&md, "treectl.clientlayer", "b", TRUE);
  g_variant_dict_insert_value (&md, "treectl.packages", g_variant_new_strv (requested, -1));
  g_variant_dict_insert_value (&md, "treectl.packages.local",
                               g_variant_new_strv (requested_local, -1));
  g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < installs->count; i++)
    g_ptr_array_add (refs, tc_pkgcache_ref_for_solvable (
                               pool, pool_id2solvable (pool, installs->elements[i])));
  g_variant_dict_insert_value (&md, "treectl.clientlayer.pkgrefs",
                               g_variant_new_strv ((const char *const *)refs->pdata, refs->len));
  g_variant_dict_insert_value (&md, "treectl.rpmdb.pkglist", build_pkglist (pool, installs));
  g_autoptr(GVariant) metadata = g_variant_ref_sink (g_variant_dict_end (&md));
  g_autofree char *joined_repo = g_strjoinv (" ", (char **)requested);
  g_autofree char *joined_local = g_strjoinv (" ", (char **)requested_local);
  g_autofree char *subject = g_strdup_printf ("treectl layer: %s%s%s", joined_repo,
                                              *joined_repo && *joined_local ? " " : "",
                                              joined_local);

  gboolean root_needed = TRUE;
  if (!needs_root (repo, pkg_commits, headers, &root_needed, error))
    return FALSE;
  if (root_needed)
    return assemble_in_root (repo, base, workdir, pkg_commits, pkg_names, headers, metadata,
                             subject, out_commit, cancellable, error);
  return assemble_by_merge (repo, base, dbroot, pkg_commits, pkg_names, metadata, subject,
                            out_commit, cancellable, error);
}

static gboolean
build_in (OstreeRepo *repo, const char *base_commit, const TcLayerOptions *opts,
          const char *workdir, Queue *installs, char **out_commit, GPtrArray **out_added,
          GCancellable *cancellable, GError **error)
{
  g_autofree char *dbroot = g_build_filename (workdir, "base-rpmdb", NULL);
  g_autofree char *releasever = base_releasever (repo, base_commit);
  g_autoptr(GPtrArray) repos = NULL;
  if (g_file_test (opts->repos_dir, G_FILE_TEST_IS_DIR))
    repos = tc_repo_dir_load (opts->repos_dir, opts->basearch, releasever, error);
  else if (opts->packages && opts->packages[0])
    return tc_throw (error, "no repositories: %s does not exist (add a .repo file there)",
                     opts->repos_dir);
  else
    repos = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_repo_free);
  if (!repos)
    return FALSE;
  if (repos->len == 0 && opts->packages && opts->packages[0])
    return tc_throw (error, "no enabled repositories in %s (add a .repo file there)",
                     opts->repos_dir);
  g_autoptr(Pool) pool = tc_rpmmd_pool_new (opts->basearch, error);
  if (!pool)
    return FALSE;
  tc_output_task_begin ("Reading the base's rpmdb");
  if (!checkout_base_rpmdb (repo, base_commit, dbroot, cancellable, error)
      || !load_installed (pool, dbroot, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("%d packages", pool->installed->nsolvables);
  if (!tc_rpmmd_load_repos (pool, repos, opts->cachedir, cancellable, error))
    return FALSE;
  g_autoptr(GArray) local_ids = g_array_new (FALSE, FALSE, sizeof (Id));
  if (!add_local_packages (repo, pool, opts->local_packages, local_ids, error))
    return FALSE;

  TcDepsolveRequest req = { .packages = opts->packages,
                            .recommends = FALSE,
                            .solvables = (const Id *)local_ids->data,
                            .n_solvables = local_ids->len };
  tc_output_task_begin ("Resolving dependencies");
  if (!tc_depsolve (pool, &req, installs, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("%d packages to add", installs->count);
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < installs->count; i++)
    g_ptr_array_add (added, g_strdup (pool_solvid2str (pool, installs->elements[i])));
  if (!opts->dry_run)
    {
      g_autoptr(GPtrArray) pkg_commits = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) pkg_names = g_ptr_array_new_with_free_func (g_free);
      TcPkgcacheOptions fetch_opts = { .repo = repo, .cachedir = opts->cachedir,
                                       .delete_downloads = TRUE };
      if (!tc_pkgcache_fetch_and_import (&fetch_opts, pool, installs, pkg_commits, pkg_names,
                                         NULL, cancellable, error)
          || !assemble_and_commit (repo, base_commit, workdir, dbroot, pool, installs, pkg_commits,
                                   pkg_names, opts->packages, opts->local_packages, out_commit,
                                   cancellable, error))
        return FALSE;
    }
  else
    *out_commit = NULL;
  if (out_added)
    *out_added = g_steal_pointer (&added);
  return TRUE;
}

gboolean
tc_layer_build (OstreeRepo *repo, const char *base_commit, const TcLayerOptions *opts,
                char **out_commit, GPtrArray **out_added, GCancellable *cancellable,
                GError **error)
{
  g_assert ((opts->packages && opts->packages[0])
            || (opts->local_packages && opts->local_packages[0]));
  /* Under the repo, so checkouts hardlink its objects; a real path, as helper processes
   * (rofiles-fuse, bwrap) see it (a sysroot's repo path may be /proc/self/fd/N). */
  g_autofree char *repo_path = realpath (g_file_peek_path (ostree_repo_get_path (repo)), NULL);
  if (!repo_path)
    return tc_throw_errno_prefix (error, "resolving the repo path");
  g_autofree char *tmp = g_build_filename (repo_path, "tmp", NULL);
  g_autofree char *workdir = g_build_filename (tmp, "treectl-layer-XXXXXX", NULL);
  if (!g_mkdtemp (workdir))
    return tc_throw_errno_prefix (error, "mkdtemp in %s", tmp);
  Queue installs;
  queue_init (&installs);
  gboolean ok = build_in (repo, base_commit, opts, workdir, &installs, out_commit, out_added,
                          cancellable, error);
  queue_free (&installs);
  (void)tc_rm_rf (workdir, FALSE, NULL);
  return ok;
}

/* Where layering for a deployment finds its .repo files and keeps its caches. */
static gboolean
deployment_dirs (OstreeSysroot *sysroot, OstreeDeployment *deployment, char **out_repos_dir,
                 char **out_cachedir, GError **error)
{
  const char *sysroot_path = g_file_peek_path (ostree_sysroot_get_path (sysroot));
  g_autofree char *deploy_dir = ostree_sysroot_get_deployment_dirpath (sysroot, deployment);
  *out_repos_dir = g_build_filename (sysroot_path, deploy_dir, "etc/yum.repos.d", NULL);
  *out_cachedir = g_build_filename (sysroot_path, "var/cache/treectl", NULL);
  if (g_mkdir_with_parents (*out_cachedir, 0755) < 0)
    return tc_throw_errno_prefix (error, "mkdir %s", *out_cachedir);
  return TRUE;
}

static const char *
host_basearch (void)
{
  static struct utsname u;
  return uname (&u) == 0 ? u.machine : "x86_64";
}

gboolean
tc_layer_for_deployment (OstreeSysroot *sysroot, OstreeDeployment *merge_deployment,
                         const char *base_commit, const char *const *packages,
                         const char *const *local_packages, gboolean dry_run, char **out_commit,
                         GPtrArray **out_added, GCancellable *cancellable, GError **error)
{
  static const char *const none[] = { NULL };
  packages = packages ? packages : none;
  local_packages = local_packages ? local_packages : none;
  if (!packages[0] && !local_packages[0])
    {
      *out_commit = g_strdup (base_commit);
      if (out_added)
        *out_added = g_ptr_array_new_with_free_func (g_free);
      return TRUE;
    }
  g_autofree char *repos_dir = NULL;
  g_autofree char *cachedir = NULL;
  if (!deployment_dirs (sysroot, merge_deployment, &repos_dir, &cachedir, error))
    return FALSE;
  TcLayerOptions opts = {
    .packages = packages,
    .local_packages = local_packages,
    .repos_dir = repos_dir,
    .cachedir = cachedir,
    .basearch = host_basearch (),
    .dry_run = dry_run,
  };
  return tc_layer_build (ostree_sysroot_repo (sysroot), base_commit, &opts, out_commit, out_added,
                         cancellable, error);
}

gboolean
tc_layer_update_refs (OstreeSysroot *sysroot, GCancellable *cancellable, GError **error)
{
  OstreeRepo *repo = ostree_sysroot_repo (sysroot);
  g_autoptr(GPtrArray) deployments = ostree_sysroot_get_deployments (sysroot);
  g_autoptr(GPtrArray) bases = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) pkgrefs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < deployments->len; i++)
    {
      const char *csum = ostree_deployment_get_csum (deployments->pdata[i]);
      g_autoptr(GVariant) commit = NULL;
      if (!ostree_repo_load_commit (repo, csum, &commit, NULL, error))
        return FALSE;
      if (!commit_is_layer (commit))
        continue;
      g_autofree char *parent = ostree_commit_get_parent (commit);
      if (parent && !g_ptr_array_find_with_equal_func (bases, parent, g_str_equal, NULL))
        g_ptr_array_add (bases, g_steal_pointer (&parent));
      g_autoptr(GVariant) md = g_variant_get_child_value (commit, 0);
      g_autofree const char **refs = NULL;
      if (g_variant_lookup (md, "treectl.clientlayer.pkgrefs", "^a&s", &refs))
        for (const char **r = refs; *r; r++)
          g_hash_table_add (pkgrefs, g_strdup (*r));
    }

  g_autoptr(GHashTable) all = NULL;
  if (!ostree_repo_list_refs_ext (repo, NULL, &all, OSTREE_REPO_LIST_REFS_EXT_NONE, cancellable,
                                  error))
    return FALSE;
  g_autoptr(GPtrArray) drop = g_ptr_array_new ();
  GHashTableIter it;
  gpointer ref, target;
  g_hash_table_iter_init (&it, all);
  while (g_hash_table_iter_next (&it, &ref, &target))
    if (g_str_has_prefix (ref, BASE_REF_PREFIX)
        || (g_str_has_prefix (ref, PKG_REF_PREFIX) && !g_hash_table_contains (pkgrefs, ref)))
      g_ptr_array_add (drop, ref);
  if (drop->len == 0 && bases->len == 0)
    return TRUE;
  if (!ostree_repo_prepare_transaction (repo, NULL, cancellable, error))
    return FALSE;
  for (guint i = 0; i < drop->len; i++)
    ostree_repo_transaction_set_ref (repo, NULL, drop->pdata[i], NULL);
  for (guint i = 0; i < bases->len; i++)
    {
      g_autofree char *name = g_strdup_printf (BASE_REF_PREFIX "%u", i);
      ostree_repo_transaction_set_ref (repo, NULL, name, bases->pdata[i]);
    }
  if (!ostree_repo_commit_transaction (repo, NULL, cancellable, error))
    {
      ostree_repo_abort_transaction (repo, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

/* Verifies and imports a local .rpm into the package cache; returns its NEVRA. A signature
 * is required when any enabled repo of the deployment has gpgcheck=1 (verified with those
 * repos' keys). */
static char *
import_local (OstreeSysroot *sysroot, OstreeDeployment *deployment, const char *path,
              const char *name, GCancellable *cancellable, GError **error)
{
  OstreeRepo *repo = ostree_sysroot_repo (sysroot);
  g_autofree char *repos_dir = NULL;
  g_autofree char *cachedir = NULL;
  if (!deployment_dirs (sysroot, deployment, &repos_dir, &cachedir, error))
    return NULL;
  g_autoptr(GPtrArray) signed_repos = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_repo_free);
  if (g_file_test (repos_dir, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GPtrArray) repos = tc_repo_dir_load (repos_dir, host_basearch (), NULL, error);
      if (!repos)
        return NULL;
      while (repos->len)
        {
          TcRepo *r = g_ptr_array_steal_index (repos, 0);
          if (r->gpgcheck)
            g_ptr_array_add (signed_repos, r);
          else
            tc_repo_free (r);
        }
    }
  TcImportOptions opts = { .display_name = name };
  g_autofree char *keyring = NULL;
  if (signed_repos->len)
    {
      keyring = tc_pkgcache_keyring (cachedir, "@local", (TcRepo *const *)signed_repos->pdata,
                                     signed_repos->len, cancellable, error);
      if (!keyring)
        return NULL;
      opts.flags |= TC_IMPORT_FLAGS_REQUIRE_SIGNATURE;
      opts.keyring_dir = keyring;
    }
  g_autofree char *commit = NULL;
  g_autofree char *ref = NULL;
  tc_output_task_begin ("Importing %s", name);
  if (!tc_importer_import (repo, path, &opts, FALSE, &commit, &ref, cancellable, error))
    {
      tc_output_task_end ("failed");
      return NULL;
    }
  Header h = tc_assembler_load_header (repo, commit, error);
  if (!h)
    return NULL;
  char *nevra = tc_rpm_header_nevra (h);
  headerFree (h);
  tc_output_task_end ("%s", nevra);
  return nevra;
}

/* Whether @nevra is the package @spec names (its NEVRA or its name). */
static gboolean
nevra_matches (const char *nevra, const char *spec)
{
  if (g_str_equal (nevra, spec))
    return TRUE;
  gsize len = strlen (spec);
  /* name-version-release.arch: the name is followed by "-" and a version. */
  return g_str_has_prefix (nevra, spec) && nevra[len] == '-'
         && strchr (nevra + len + 1, '-') != NULL
         && strchr (strchr (nevra + len + 1, '-') + 1, '-') == NULL;
}

static gboolean
strv_contains_str (GPtrArray *a, const char *s, guint *out_index)
{
  return g_ptr_array_find_with_equal_func (a, s, g_str_equal, out_index);
}

static char *
join_or_none (GPtrArray *a)
{
  if (a->len == 0)
    return g_strdup ("none");
  g_ptr_array_add (a, NULL);
  char *s = g_strjoinv (", ", (char **)a->pdata);
  g_ptr_array_remove_index (a, a->len - 1);
  return s;
}

gboolean
tc_pkg_change (OstreeSysroot *sysroot, const char *osname, const char *const *install,
               const char *const *uninstall, const char *const *local_paths,
               const char *const *local_names, TcPkgChangeFlags flags, GVariant **out_result,
               GCancellable *cancellable, GError **error)
{
  OstreeRepo *repo = ostree_sysroot_repo (sysroot);
  g_autoptr(OstreeDeployment) merge = tc_sysroot_require_current (sysroot, osname, error);
  if (!merge)
    return FALSE;
  g_autoptr(TcOrigin) origin = tc_origin_new_from_deployment (merge, error);
  if (!origin)
    return FALSE;
  gboolean idempotent = (flags & TC_PKG_CHANGE_FLAGS_IDEMPOTENT) != 0;
  g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) want_local = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) layered_before = g_ptr_array_new_with_free_func (g_free);
  for (char **p = origin->packages; *p; p++)
    {
      g_ptr_array_add (want, g_strdup (*p));
      g_ptr_array_add (layered_before, g_strdup (*p));
    }
  for (char **p = origin->local_packages; *p; p++)
    {
      g_ptr_array_add (want_local, g_strdup (*p));
      g_ptr_array_add (layered_before, g_strdup (*p));
    }
  gboolean changed = FALSE;

  if (flags & TC_PKG_CHANGE_FLAGS_UNINSTALL_ALL)
    {
      changed = want->len > 0 || want_local->len > 0;
      g_ptr_array_set_size (want, 0);
      g_ptr_array_set_size (want_local, 0);
    }
  for (const char *const *u = uninstall; u && *u; u++)
    {
      guint idx;
      gboolean found = FALSE;
      if (strv_contains_str (want, *u, &idx))
        {
          g_ptr_array_remove_index (want, idx);
          found = TRUE;
        }
      for (guint i = 0; i < want_local->len;)
        if (nevra_matches (want_local->pdata[i], *u))
          {
            g_ptr_array_remove_index (want_local, i);
            found = TRUE;
          }
        else
          i++;
      changed = changed || found;
      if (!found && !idempotent && !(flags & TC_PKG_CHANGE_FLAGS_UNINSTALL_ALL))
        {
          g_autofree char *layered = join_or_none (layered_before);
          return tc_throw (error, "package \"%s\" is not layered (layered packages: %s)", *u,
                           layered);
        }
    }
  for (const char *const *i = install; i && *i; i++)
    {
      if (**i == '\0')
        return tc_throw (error, "empty package name");
      if (g_str_has_suffix (*i, ".rpm") || strchr (*i, '/'))
        return tc_throw (error, "%s: a local RPM file must be passed as a file (the treectl "
                                "client opens it)",
                         *i);
      if (strv_contains_str (want, *i, NULL))
        {
          if (!idempotent)
            return tc_throw (error, "package \"%s\" is already requested (use --idempotent to "
                                    "ignore this)",
                             *i);
          continue;
        }
      g_ptr_array_add (want, g_strdup (*i));
      changed = TRUE;
    }
  for (guint i = 0; local_paths && local_paths[i]; i++)
    {
      const char *name = local_names && local_names[i] ? local_names[i] : local_paths[i];
      g_autofree char *nevra = import_local (sysroot, merge, local_paths[i], name, cancellable,
                                             error);
      if (!nevra)
        return FALSE;
      if (strv_contains_str (want_local, nevra, NULL))
        {
          if (!idempotent)
            return tc_throw (error, "%s: package %s is already layered (use --idempotent to "
                                    "ignore this)",
                             name, nevra);
          continue;
        }
      g_ptr_array_add (want_local, g_steal_pointer (&nevra));
      changed = TRUE;
    }
  if (!changed)
    {
      *out_result = tc_result_new (FALSE, ostree_deployment_get_csum (merge), NULL,
                                   "No change to the layered packages.");
      return TRUE;
    }

  g_autofree char *base = tc_layer_get_base (repo, ostree_deployment_get_csum (merge), error);
  if (!base)
    return FALSE;
  g_ptr_array_add (want, NULL);
  g_ptr_array_add (want_local, NULL);
  const char *const *packages = (const char *const *)want->pdata;
  const char *const *local_packages = (const char *const *)want_local->pdata;
  gboolean dry_run = (flags & TC_PKG_CHANGE_FLAGS_DRY_RUN) != 0;
  g_autofree char *target = NULL;
  g_autoptr(GPtrArray) added = NULL;
  if (!tc_layer_for_deployment (sysroot, merge, base, packages, local_packages, dry_run, &target,
                                &added, cancellable, error))
    return FALSE;
  g_autofree char *added_text = join_or_none (added);
  if (dry_run)
    {
      g_autofree char *msg = g_strdup_printf ("Dry run: the layer would hold %s", added_text);
      *out_result = tc_result_new (FALSE, NULL, NULL, msg);
      return TRUE;
    }
  tc_origin_set_packages (origin, packages);
  tc_origin_set_local_packages (origin, local_packages);
  if (!tc_deploy_as_default (sysroot, osname, target, origin, merge, NULL, NULL, cancellable,
                             error))
    return FALSE;
  g_autofree char *msg = NULL;
  if (g_str_equal (target, base))
    msg = g_strdup_printf ("No layered packages left: deployed the base commit %s; it becomes "
                           "active at the next boot",
                           base);
  else
    msg = g_strdup_printf ("Deployed %s (base %.12s + %s); it becomes active at the next boot",
                           target, base, added_text);
  g_autoptr(GVariant) commit = NULL;
  g_autofree char *version = NULL;
  if (ostree_repo_load_commit (repo, target, &commit, NULL, NULL))
    version = tc_commit_get_version (commit);
  *out_result = tc_result_new (TRUE, target, version, msg);
  return TRUE;
}
