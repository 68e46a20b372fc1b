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

/* Calls @func on each header of the rpmdb at RPMDB_DIR under @dbroot (read-only). */
static void
foreach_rpmdb_header (const char *dbroot, void (*func) (Header h, gpointer data), gpointer data)
{
  rpmPushMacro (NULL, "_dbpath", NULL, "/" RPMDB_DIR, RMIL_CMDLINE);
  g_auto(rpmts) ts = rpmtsCreate ();
  rpmtsSetRootDir (ts, dbroot);
  rpmtsSetVSFlags (ts, _RPMVSF_NOSIGNATURES | _RPMVSF_NODIGESTS);
  rpmdbMatchIterator mi = rpmtsInitIterator (ts, RPMDBI_PACKAGES, NULL, 0);
  Header h;
  while (mi && (h = rpmdbNextIterator (mi)) != NULL)
    func (h, data);
  rpmdbFreeIterator (mi);
  rpmtsCloseDB (ts);
  rpmPopMacro (NULL, "_dbpath");
}

typedef struct
{
  Repo *repo;
  void *state;
} InstalledLoad;

static void
add_installed (Header h, gpointer data)
{
  InstalledLoad *load = data;
  void *handle = rpm_byrpmh (load->state, h);
  if (handle)
    repo_add_rpm_handle (load->repo, handle, REPO_REUSE_REPODATA | REPO_NO_INTERNALIZE);
}

/* The base's packages, read from its rpmdb with librpm, as the pool's installed repo. */
static gboolean
load_installed (Pool *pool, const char *dbroot, GError **error)
{
  if (!tc_rpm_init (error))
    return FALSE;
  InstalledLoad load = { .repo = repo_create (pool, "@System"),
                         .state = rpm_state_create (pool, dbroot) };
  pool_set_installed (pool, load.repo);
  foreach_rpmdb_header (dbroot, add_installed, &load);
  rpm_state_free (load.state);
  repo_internalize (load.repo);
  if (load.repo->nsolvables == 0)
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

/* Everything one layer build holds. */
typedef struct
{
  OstreeRepo *repo;
  const TcLayerOptions *opts;
  const char *base;
  const char *workdir;
  char *dbroot;  /* private copy of the base's rpmdb (read for depsolving, then updated) */
  Pool *pool;
  Repo *cmdline; /* local RPMs, created on first use */
  Queue installs;
  Queue erasures;          /* base packages removed or replaced */
  GPtrArray *erase_nevras; /* their NEVRAs, NULL-terminated */
  GPtrArray *erase_paths;  /* the tree paths they own */
  GPtrArray *pkg_commits;
  GPtrArray *pkg_names;
} Layer;

static void
layer_clear (Layer *l)
{
  g_free (l->dbroot);
  queue_free (&l->installs);
  queue_free (&l->erasures);
  g_clear_pointer (&l->erase_nevras, g_ptr_array_unref);
  g_clear_pointer (&l->erase_paths, g_ptr_array_unref);
  g_clear_pointer (&l->pkg_commits, g_ptr_array_unref);
  g_clear_pointer (&l->pkg_names, g_ptr_array_unref);
  g_clear_pointer (&l->pool, pool_free);
}

/* The local RPMs, from their package cache commits, as solvables of the "@commandline"
 * repo; their ids go to @out_ids. */
static gboolean
add_local_packages (Layer *l, const char *const *nevras, GArray *out_ids, GError **error)
{
  if (!nevras || !nevras[0])
    return TRUE;
  if (!l->cmdline)
    l->cmdline = repo_create (l->pool, "@commandline");
  void *state = rpm_state_create (l->pool, NULL);
  gboolean ok = TRUE;
  for (const char *const *n = nevras; ok && *n; n++)
    {
      g_autofree char *ref = ref_for_nevra (*n, error);
      g_autofree char *commit = NULL;
      ok = ref != NULL && ostree_repo_resolve_rev (l->repo, ref, TRUE, &commit, error);
      if (ok && !commit)
        ok = tc_throw (error, "local package %s is no longer in the package cache; install its "
                              ".rpm file again",
                       *n);
      Header h = ok ? tc_assembler_load_header (l->repo, commit, error) : NULL;
      ok = ok && h != NULL;
      if (ok)
        {
          void *handle = rpm_byrpmh (state, h);
          Id id = handle ? repo_add_rpm_handle (l->cmdline, handle, REPO_REUSE_REPODATA
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
  repo_internalize (l->cmdline);
  return ok;
}

/* The base packages named @name. */
static void
base_packages_named (Pool *pool, const char *name, Queue *out)
{
  Id p;
  Solvable *s;
  FOR_REPO_SOLVABLES (pool->installed, p, s)
  if (g_str_equal (pool_id2str (pool, s->name), name))
    queue_push (out, p);
}

/* override remove and override replace: the base packages to erase, and the names the
 * replacements may take over. */
static gboolean
resolve_overrides (Layer *l, GArray *replace_ids, GArray *out_erase, GPtrArray *out_replaceable,
                   GError **error)
{
  for (const char *const *n = l->opts->override_remove; n && *n; n++)
    {
      Queue q;
      queue_init (&q);
      base_packages_named (l->pool, *n, &q);
      for (int i = 0; i < q.count; i++)
        g_array_append_val (out_erase, q.elements[i]);
      gboolean none = q.count == 0;
      queue_free (&q);
      if (none)
        return tc_throw (error, "override remove: the base has no package \"%s\"", *n);
    }
  for (guint i = 0; i < replace_ids->len; i++)
    {
      Solvable *s = pool_id2solvable (l->pool, g_array_index (replace_ids, Id, i));
      const char *name = pool_id2str (l->pool, s->name);
      Queue q;
      queue_init (&q);
      base_packages_named (l->pool, name, &q);
      gboolean none = q.count == 0;
      queue_free (&q);
      if (none)
        return tc_throw (error, "override replace: %s replaces nothing: the base has no package "
                                "\"%s\" (use install to add a package)",
                         pool_solvid2str (l->pool, g_array_index (replace_ids, Id, i)), name);
      g_ptr_array_add (out_replaceable, (char *)name);
    }
  g_ptr_array_add (out_replaceable, NULL);
  return TRUE;
}

static void
add_erased_paths (Header h, gpointer data)
{
  Layer *l = data;
  g_autofree char *nevra = tc_rpm_header_nevra (h);
  if (!g_ptr_array_find_with_equal_func (l->erase_nevras, nevra, g_str_equal, NULL))
    return;
  g_autoptr(GPtrArray) paths = tc_assembler_package_paths (h);
  for (guint i = 0; i < paths->len; i++)
    g_ptr_array_add (l->erase_paths, g_strdup (paths->pdata[i]));
}

/* NEVRAs (NULL-terminated) and tree paths of the base packages the layer removes, the paths
 * from their headers in the base's rpmdb. */
static void
collect_erasures (Layer *l)
{
  l->erase_nevras = g_ptr_array_new_with_free_func (g_free);
  l->erase_paths = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < l->erasures.count; i++)
    g_ptr_array_add (l->erase_nevras, g_strdup (pool_solvid2str (l->pool, l->erasures.elements[i])));
  if (l->erasures.count > 0)
    foreach_rpmdb_header (l->dbroot, add_erased_paths, l);
  g_ptr_array_add (l->erase_nevras, NULL);
}

static int
compare_pkglist_entries (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *)a, *(char *const *)b);
}

/* treectl.rpmdb.pkglist of the layered tree: the base's packages less the removed ones,
 * plus the added ones, sorted by NEVRA. */
static GVariant *
build_pkglist (Layer *l)
{
  Pool *pool = l->pool;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  Id p;
  Solvable *s;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (Id));
  FOR_REPO_SOLVABLES (pool->installed, p, s)
  {
    gboolean erased = FALSE;
    for (int i = 0; i < l->erasures.count && !erased; i++)
      erased = l->erasures.elements[i] == p;
    if (!erased)
      g_array_append_val (ids, p);
  }
  for (int i = 0; i < l->installs.count; i++)
    g_array_append_val (ids, l->installs.elements[i]);
  for (guint i = 0; i < ids->len; i++)
    {
      Id id = g_array_index (ids, Id, i);
      g_ptr_array_add (lines, g_strdup_printf ("%s\t%d", pool_solvid2str (pool, id), id));
    }
  g_ptr_array_sort (lines, compare_pkglist_entries);
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(sssss)"));
  for (guint i = 0; i < lines->len; i++)
    {
      const char *tab = strrchr (lines->pdata[i], '\t');
      s = pool_id2solvable (pool, (Id)g_ascii_strtoll (tab + 1, NULL, 10));
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
needs_root (Layer *l, GPtrArray *headers, gboolean *out_needs, GError **error)
{
  *out_needs = tc_scripts_any (headers);
  for (guint i = 0; i < l->pkg_commits->len && !*out_needs; i++)
    {
      g_autoptr(GVariant) commit = NULL;
      if (!ostree_repo_load_commit (l->repo, l->pkg_commits->pdata[i], &commit, NULL, error))
        return FALSE;
      g_autoptr(GVariant) md = g_variant_get_child_value (commit, 0);
      g_autoptr(GVariant) files = g_variant_lookup_value (md, "treectl.nonroot-files", NULL);
      g_autoptr(GVariant) setid = g_variant_lookup_value (md, "treectl.nonroot-setid", NULL);
      *out_needs = files != NULL || setid != NULL;
    }
  return TRUE;
}

/* Base checkout (hardlinks), removed packages' files deleted, packages over it, scriptlets
 * in bubblewrap, ownership, rpmdb, then a commit of the whole root through the
 * device/inode cache. */
static gboolean
assemble_in_root (Layer *l, GPtrArray *headers, GVariant *metadata, const char *subject,
                  char **out_commit, GCancellable *cancellable, GError **error)
{
  OstreeRepo *repo = l->repo;
  g_autofree char *rootfs = g_build_filename (l->workdir, "rootfs", NULL);
  g_autoptr(OstreeRepoDevInoCache) devino = ostree_repo_devino_cache_new ();
  OstreeRepoCheckoutAtOptions copts = { 0 };
  copts.mode = ostree_repo_get_mode (repo) == OSTREE_REPO_MODE_BARE
                   ? OSTREE_REPO_CHECKOUT_MODE_NONE
                   : OSTREE_REPO_CHECKOUT_MODE_USER;
  copts.no_copy_fallback = TRUE;
  copts.devino_to_csum_cache = devino;
  tc_output_task_begin ("Assembling base %.12s and %u packages", l->base, l->pkg_commits->len);
  gboolean ok = ostree_repo_checkout_at (repo, &copts, AT_FDCWD, rootfs, l->base, cancellable,
                                         error);
  for (guint i = 0; ok && i < l->erase_paths->len; i++)
    {
      g_autofree char *path = g_build_filename (rootfs, l->erase_paths->pdata[i], NULL);
      if (unlink (path) < 0 && errno != ENOENT)
        ok = tc_throw_errno_prefix (error, "removing %s", (char *)l->erase_paths->pdata[i]);
    }
  ok = ok && tc_assembler_checkout (repo, l->pkg_commits, l->pkg_names, AT_FDCWD, rootfs, devino,
                                    cancellable, error);
  tc_output_task_end (ok ? "done" : "failed");
  if (!ok)
    return FALSE;

  if (!tc_scripts_unshare_etc (rootfs, error))
    return FALSE;
  tc_output_task_begin ("Running scriptlets");
  if (!tc_scripts_run (rootfs, headers, l->pkg_names, NULL, TC_SCRIPTS_FLAG_NONE, cancellable,
                       error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("done");

  g_autofree char *rpmdb_dir = g_build_filename (rootfs, RPMDB_DIR, NULL);
  tc_output_task_begin ("Writing the rpmdb");
  if (!tc_assembler_apply_ownership (repo, l->pkg_commits, rootfs, error)
      /* librpm rewrites the database in place: its files are hardlinks to objects. */
      || !tc_break_hardlinks_below (rpmdb_dir, error)
      || !tc_assembler_write_rpmdb (repo, l->pkg_commits,
                                    (const char *const *)l->erase_nevras->pdata, rootfs,
                                    cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("done");

  tc_output_task_begin ("Committing");
  if (!tc_assembler_commit (repo, rootfs, devino, l->base, subject, metadata, NULL, out_commit,
                            NULL, cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("%.12s", *out_commit);
  return TRUE;
}

/* The mutable tree directory at @path (components separated by "/"), or NULL with an
 * error. (ostree_mutable_tree_walk() stops at the parent of the last component.) */
static OstreeMutableTree *
lookup_dir (OstreeMutableTree *mtree, const char *path, GError **error)
{
  g_autoptr(OstreeMutableTree) dir = g_object_ref (mtree);
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);
  for (char **p = parts; *p; p++)
    {
      if (!**p)
        continue;
      g_autofree char *file = NULL;
      g_autoptr(OstreeMutableTree) sub = NULL;
      if (!ostree_mutable_tree_lookup (dir, *p, &file, &sub, error))
        return NULL;
      if (!sub)
        return (tc_throw (error, "/%s is not a directory in the base", path), NULL);
      g_set_object (&dir, sub);
    }
  return g_steal_pointer (&dir);
}

/* Removes the tree paths of removed packages from @mtree (missing ones are fine). */
static gboolean
remove_paths (Layer *l, OstreeMutableTree *mtree, GError **error)
{
  for (guint i = 0; i < l->erase_paths->len; i++)
    {
      const char *path = l->erase_paths->pdata[i];
      g_autofree char *dirname = g_path_get_dirname (path);
      g_autofree char *basename = g_path_get_basename (path);
      g_autoptr(GError) local_error = NULL;
      g_autoptr(OstreeMutableTree) dir
          = lookup_dir (mtree, g_str_equal (dirname, ".") ? "" : dirname, &local_error);
      if (!dir)
        continue; /* its directory is gone too */
      if (!ostree_mutable_tree_remove (dir, basename, TRUE, error))
        return FALSE;
    }
  return TRUE;
}

/* No root at all: the base commit's tree less the removed packages' files, with the package
 * trees merged in and the rpmdb (updated in the private copy read for depsolving) written
 * over the base's. The cost follows the size of the packages, not of the base. */
static gboolean
assemble_by_merge (Layer *l, GVariant *metadata, const char *subject, char **out_commit,
                   GCancellable *cancellable, GError **error)
{
  OstreeRepo *repo = l->repo;
  tc_output_task_begin ("Writing the rpmdb");
  if (!tc_assembler_write_rpmdb (repo, l->pkg_commits,
                                 (const char *const *)l->erase_nevras->pdata, l->dbroot,
                                 cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("done");
  tc_output_task_begin ("Merging base %.12s and %u packages", l->base, l->pkg_commits->len);
  if (!ostree_repo_prepare_transaction (repo, NULL, cancellable, error))
    return FALSE;
  g_autoptr(OstreeMutableTree) mtree = ostree_mutable_tree_new_from_commit (repo, l->base, error);
  g_autoptr(OstreeMutableTree) rpmdb_tree = mtree ? lookup_dir (mtree, RPMDB_DIR, error) : NULL;
  g_autofree char *dbdir = g_build_filename (l->dbroot, RPMDB_DIR, NULL);
  if (!rpmdb_tree || !remove_paths (l, mtree, error)
      || !tc_assembler_merge_into_mtree (repo, mtree, l->pkg_commits, l->pkg_names, error)
      || !ostree_repo_write_dfd_to_mtree (repo, AT_FDCWD, dbdir, rpmdb_tree, NULL, cancellable,
                                          error))
    {
      ostree_repo_abort_transaction (repo, NULL, NULL);
      tc_output_task_end ("failed");
      return FALSE;
    }
  if (!tc_assembler_finish_commit (repo, mtree, l->base, subject, metadata, NULL, out_commit,
                                   NULL, cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("%.12s", *out_commit);
  return TRUE;
}

static GVariant *
strv_variant (const char *const *strv)
{
  static const char *const none[] = { NULL };
  return g_variant_new_strv (strv ? strv : none, -1);
}

static gboolean
assemble_and_commit (Layer *l, char **out_commit, GCancellable *cancellable, GError **error)
{
  const TcLayerOptions *opts = l->opts;
  g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (header_free);
  for (guint i = 0; i < l->pkg_commits->len; i++)
    {
      Header h = tc_assembler_load_header (l->repo, l->pkg_commits->pdata[i], error);
      if (!h)
        return FALSE;
      g_ptr_array_add (headers, h);
    }

  g_autoptr(GVariant) base_commit = NULL;
  if (!ostree_repo_load_commit (l->repo, l->base, &base_commit, NULL, error))
    return FALSE;
  g_autoptr(GVariant) base_md = g_variant_get_child_value (base_commit, 0);
  g_auto(GVariantDict) md;
  g_variant_dict_init (&md, base_md);
  g_variant_dict_remove (&md, "treectl.inputhash");
  g_variant_dict_insert (&md, "treectl.clientlayer", "b", TRUE);
  g_variant_dict_insert_value (&md, "treectl.packages", strv_variant (opts->packages));
  g_variant_dict_insert_value (&md, "treectl.packages.local", strv_variant (opts->local_packages));
  g_variant_dict_insert_value (&md, "treectl.removed-base-packages",
                               strv_variant ((const char *const *)l->erase_nevras->pdata));
  g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < l->installs.count; i++)
    g_ptr_array_add (refs, tc_pkgcache_ref_for_solvable (
                               l->pool, pool_id2solvable (l->pool, l->installs.elements[i])));
  g_variant_dict_insert_value (&md, "treectl.clientlayer.pkgrefs",
                               g_variant_new_strv ((const char *const *)refs->pdata, refs->len));
  g_variant_dict_insert_value (&md, "treectl.rpmdb.pkglist", build_pkglist (l));
  g_autoptr(GVariant) metadata = g_variant_ref_sink (g_variant_dict_end (&md));
  g_autoptr(GString) subject = g_string_new ("treectl layer:");
  const char *const *const lists[] = { opts->packages, opts->local_packages,
                                       opts->replace_local };
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    for (const char *const *p = lists[i]; p && *p; p++)
      g_string_append_printf (subject, " %s", *p);
  for (const char *const *p = opts->override_remove; p && *p; p++)
    g_string_append_printf (subject, " -%s", *p);

  gboolean root_needed = TRUE;
  if (!needs_root (l, headers, &root_needed, error))
    return FALSE;
  if (root_needed)
    return assemble_in_root (l, headers, metadata, subject->str, out_commit, cancellable, error);
  return assemble_by_merge (l, metadata, subject->str, out_commit, cancellable, error);
}

static gboolean
build_in (Layer *l, char **out_commit, GPtrArray **out_added, GCancellable *cancellable,
          GError **error)
{
  const TcLayerOptions *opts = l->opts;
  OstreeRepo *repo = l->repo;
  l->dbroot = g_build_filename (l->workdir, "base-rpmdb", NULL);
  g_autofree char *releasever = base_releasever (repo, l->base);
  gboolean wants_repos = opts->packages && opts->packages[0];
  g_autoptr(GPtrArray) repos = NULL;
  if (g_file_test (opts->repos_dir, G_FILE_TEST_IS_DIR))
    repos = tc_repo_dir_load (opts->repos_dir, opts->basearch, releasever, error);
  else if (wants_repos)
    return tc_throw (error, "no repositories: %s does not exist (add a .repo file there)",
                     opts->repos_dir);
  else
    repos = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_repo_free);
  if (!repos)
    return FALSE;
  if (repos->len == 0 && wants_repos)
    return tc_throw (error, "no enabled repositories in %s (add a .repo file there)",
                     opts->repos_dir);
  l->pool = tc_rpmmd_pool_new (opts->basearch, error);
  if (!l->pool)
    return FALSE;
  tc_output_task_begin ("Reading the base's rpmdb");
  if (!checkout_base_rpmdb (repo, l->base, l->dbroot, cancellable, error)
      || !load_installed (l->pool, l->dbroot, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("%d packages", l->pool->installed->nsolvables);
  if (!tc_rpmmd_load_repos (l->pool, repos, opts->cachedir, cancellable, error))
    return FALSE;
  g_autoptr(GArray) local_ids = g_array_new (FALSE, FALSE, sizeof (Id));
  g_autoptr(GArray) replace_ids = g_array_new (FALSE, FALSE, sizeof (Id));
  g_autoptr(GArray) erase_ids = g_array_new (FALSE, FALSE, sizeof (Id));
  g_autoptr(GPtrArray) replaceable = g_ptr_array_new ();
  if (!add_local_packages (l, opts->local_packages, local_ids, error)
      || !add_local_packages (l, opts->replace_local, replace_ids, error)
      || !resolve_overrides (l, replace_ids, erase_ids, replaceable, error))
    return FALSE;
  g_array_append_vals (local_ids, replace_ids->data, replace_ids->len);

  TcDepsolveRequest req = { .packages = opts->packages,
                            .recommends = FALSE,
                            .solvables = (const Id *)local_ids->data,
                            .n_solvables = local_ids->len,
                            .erase = (const Id *)erase_ids->data,
                            .n_erase = erase_ids->len,
                            .replaceable = (const char *const *)replaceable->pdata };
  tc_output_task_begin ("Resolving dependencies");
  if (!tc_depsolve_full (l->pool, &req, &l->installs, &l->erasures, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("%d packages to add, %d base packages to remove", l->installs.count,
                      l->erasures.count);
  collect_erasures (l);
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < l->installs.count; i++)
    g_ptr_array_add (added, g_strdup (pool_solvid2str (l->pool, l->installs.elements[i])));
  for (int i = 0; i < l->erasures.count; i++)
    g_ptr_array_add (added, g_strdup_printf ("without base package %s",
                                             pool_solvid2str (l->pool, l->erasures.elements[i])));
  if (!opts->dry_run)
    {
      l->pkg_commits = g_ptr_array_new_with_free_func (g_free);
      l->pkg_names = g_ptr_array_new_with_free_func (g_free);
      TcPkgcacheOptions fetch_opts = { .repo = repo, .cachedir = opts->cachedir,
                                       .delete_downloads = TRUE };
      if (!tc_pkgcache_fetch_and_import (&fetch_opts, l->pool, &l->installs, l->pkg_commits,
                                         l->pkg_names, NULL, cancellable, error)
          || !assemble_and_commit (l, out_commit, cancellable, error))
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
  /* Under the repo, so checkouts hardlink its objects; a real path, as helper processes
   * (rofiles-fuse, bwrap) see it (a sysroot's repo path may be /proc/self/fd/N). */
  g_autofree char *repo_path = realpath (g_file_peek_path (ostree_repo_get_path (repo)), NULL);
  if (!repo_path)
    return tc_throw_errno_prefix (error, "resolving the repo path");
  g_autofree char *tmp = g_build_filename (repo_path, "tmp", NULL);
  g_autofree char *workdir = g_build_filename (tmp, "treectl-layer-XXXXXX", NULL);
  if (!g_mkdtemp (workdir))
    return tc_throw_errno_prefix (error, "mkdtemp in %s", tmp);
  Layer l = { .repo = repo, .opts = opts, .base = base_commit, .workdir = workdir };
  queue_init (&l.installs);
  queue_init (&l.erasures);
  gboolean ok = build_in (&l, out_commit, out_added, cancellable, error);
  layer_clear (&l);
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
                         const char *base_commit, TcOrigin *origin, gboolean dry_run,
                         char **out_commit, GPtrArray **out_added, GCancellable *cancellable,
                         GError **error)
{
  if (!tc_origin_has_packages (origin))
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
    .packages = (const char *const *)origin->packages,
    .local_packages = (const char *const *)origin->local_packages,
    .override_remove = (const char *const *)origin->override_remove,
    .replace_local = (const char *const *)origin->override_replace_local,
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

/* The NEVRA's name: "name-version-release.arch" less "-version-release.arch". */
static char *
nevra_name (const char *nevra)
{
  const char *dash_rel = strrchr (nevra, '-');
  const char *dash_ver = dash_rel ? g_strrstr_len (nevra, dash_rel - nevra, "-") : NULL;
  return dash_ver ? g_strndup (nevra, dash_ver - nevra) : g_strdup (nevra);
}

/* Whether @nevra is the package @spec names (its NEVRA or its name). */
static gboolean
nevra_matches (const char *nevra, const char *spec)
{
  g_autofree char *name = nevra_name (nevra);
  return g_str_equal (nevra, spec) || g_str_equal (name, spec);
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

static GPtrArray *
ptr_array_from_strv (char **strv)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
  for (char **p = strv; p && *p; p++)
    g_ptr_array_add (a, g_strdup (*p));
  return a;
}

/* Removes the entries of @a that are @spec or whose NEVRA names it; whether any was. */
static gboolean
remove_matching (GPtrArray *a, const char *spec, gboolean nevras)
{
  gboolean found = FALSE;
  for (guint i = 0; i < a->len;)
    if (g_str_equal (a->pdata[i], spec) || (nevras && nevra_matches (a->pdata[i], spec)))
      {
        g_ptr_array_remove_index (a, i);
        found = TRUE;
      }
    else
      i++;
  return found;
}


static const char *const *
terminated (GPtrArray *a)
{
  g_ptr_array_add (a, NULL);
  g_ptr_array_set_size (a, a->len - 1);
  return (const char *const *)a->pdata;
}

gboolean
tc_pkg_change (OstreeSysroot *sysroot, const char *osname, const TcPkgChangeRequest *request,
               TcPkgChangeFlags flags, GVariant **out_result, GCancellable *cancellable,
               GError **error)
{
  OstreeRepo *repo = ostree_sysroot_repo (sysroot);
  g_autoptr(TcOrigin) origin = NULL;
  g_autoptr(OstreeDeployment) merge
      = tc_sysroot_require_current_with_origin (sysroot, osname, &origin, error);
  if (!merge)
    return FALSE;
  gboolean idempotent = (flags & TC_PKG_CHANGE_FLAGS_IDEMPOTENT) != 0;
  g_autoptr(GPtrArray) want = ptr_array_from_strv (origin->packages);
  g_autoptr(GPtrArray) want_local = ptr_array_from_strv (origin->local_packages);
  g_autoptr(GPtrArray) removals = ptr_array_from_strv (origin->override_remove);
  g_autoptr(GPtrArray) replacements = ptr_array_from_strv (origin->override_replace_local);
  g_autoptr(GPtrArray) layered_before = ptr_array_from_strv (origin->packages);
  for (char **p = origin->local_packages; *p; p++)
    g_ptr_array_add (layered_before, g_strdup (*p));
  g_autoptr(GPtrArray) overridden_before = ptr_array_from_strv (origin->override_remove);
  for (char **p = origin->override_replace_local; *p; p++)
    g_ptr_array_add (overridden_before, g_strdup (*p));
  guint n_before = want->len + want_local->len + removals->len + replacements->len;
  gboolean changed = FALSE;

  if (flags & TC_PKG_CHANGE_FLAGS_UNINSTALL_ALL)
    {
      g_ptr_array_set_size (want, 0);
      g_ptr_array_set_size (want_local, 0);
    }
  if (flags & TC_PKG_CHANGE_FLAGS_OVERRIDE_RESET_ALL)
    {
      g_ptr_array_set_size (removals, 0);
      g_ptr_array_set_size (replacements, 0);
    }
  changed = want->len + want_local->len + removals->len + replacements->len != n_before;
  for (const char *const *u = request->uninstall; u && *u; u++)
    {
      gboolean found = remove_matching (want, *u, FALSE) | remove_matching (want_local, *u, TRUE);
      changed = changed || found;
      if (!found && !idempotent && !(flags & TC_PKG_CHANGE_FLAGS_UNINSTALL_ALL))
        {
          g_autofree char *layered = join_or_none (layered_before);
          return tc_throw (error, "package \"%s\" is not layered (layered packages: %s)", *u,
                           layered);
        }
    }
  for (const char *const *r = request->override_reset; r && *r; r++)
    {
      gboolean found
          = remove_matching (removals, *r, FALSE) | remove_matching (replacements, *r, TRUE);
      changed = changed || found;
      if (!found && !idempotent)
        {
          g_autofree char *overridden = join_or_none (overridden_before);
          return tc_throw (error, "package \"%s\" has no override (overridden packages: %s)", *r,
                           overridden);
        }
    }
  for (const char *const *r = request->override_remove; r && *r; r++)
    {
      if (**r == '\0')
        return tc_throw (error, "empty package name");
      if (strv_contains_str (removals, *r, NULL))
        {
          if (!idempotent)
            return tc_throw (error, "base package \"%s\" is already removed", *r);
          continue;
        }
      g_ptr_array_add (removals, g_strdup (*r));
      changed = TRUE;
    }
  for (const char *const *i = request->install; i && *i; i++)
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
  GPtrArray *local_dest = request->local_replace ? replacements : want_local;
  for (guint i = 0; request->local_paths && request->local_paths[i]; i++)
    {
      const char *path = request->local_paths[i];
      const char *name = request->local_names && request->local_names[i]
                             ? request->local_names[i]
                             : path;
      g_autofree char *nevra = import_local (sysroot, merge, path, name, cancellable, error);
      if (!nevra)
        return FALSE;
      if (strv_contains_str (local_dest, nevra, NULL))
        {
          if (!idempotent)
            return tc_throw (error, "%s: package %s is already %s (use --idempotent to ignore "
                                    "this)",
                             name, nevra, request->local_replace ? "an override" : "layered");
          continue;
        }
      /* A newer replacement of the same package takes the place of the older one. */
      g_autofree char *pkg_name = nevra_name (nevra);
      if (request->local_replace)
        remove_matching (replacements, pkg_name, TRUE);
      g_ptr_array_add (local_dest, g_steal_pointer (&nevra));
      changed = TRUE;
    }
  if (!changed)
    {
      *out_result = tc_result_new (FALSE, ostree_deployment_get_csum (merge), NULL,
                                   "No change to the layered packages or overrides.");
      return TRUE;
    }

  g_autofree char *base = tc_layer_get_base (repo, ostree_deployment_get_csum (merge), error);
  if (!base)
    return FALSE;
  tc_origin_set_packages (origin, terminated (want));
  tc_origin_set_local_packages (origin, terminated (want_local));
  tc_origin_set_override_remove (origin, terminated (removals));
  tc_origin_set_override_replace_local (origin, terminated (replacements));
  gboolean dry_run = (flags & TC_PKG_CHANGE_FLAGS_DRY_RUN) != 0;
  g_autofree char *target = NULL;
  g_autoptr(GPtrArray) added = NULL;
  if (!tc_layer_for_deployment (sysroot, merge, base, origin, dry_run, &target, &added,
                                cancellable, error))
    return FALSE;
  g_autofree char *added_text = join_or_none (added);
  if (dry_run)
    {
      g_autofree char *msg = g_strdup_printf ("Dry run: the layer would hold %s", added_text);
      *out_result = tc_result_new (FALSE, NULL, NULL, msg);
      return TRUE;
    }
  if (!tc_deploy_as_default (sysroot, osname, target, origin, merge, NULL, NULL, cancellable,
                             error))
    return FALSE;
  g_autofree char *msg = NULL;
  if (g_str_equal (target, base))
    msg = g_strdup_printf ("No layered packages or overrides left: deployed the base commit %s; "
                           "it becomes active at the next boot",
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
