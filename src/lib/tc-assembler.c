/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Union checkout of package commits and rpmdb writing. */
#include "config.h"

#include <rpm/header.h>
#include <rpm/rpmfi.h>
#include <string.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmprob.h>
#include <rpm/rpmps.h>
#include <rpm/rpmts.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tc-assembler.h"
#include "tc-importer.h"
#include "tc-rpm-util.h"
#include "tc-output.h"
#include "tc-util.h"


gboolean
tc_assembler_checkout (OstreeRepo *repo, GPtrArray *pkg_commits, GPtrArray *pkg_names,
                       int rootfs_dfd, const char *rootfs_name, OstreeRepoDevInoCache *devino,
                       GCancellable *cancellable, GError **error)
{
  for (guint i = 0; i < pkg_commits->len; i++)
    {
      OstreeRepoCheckoutAtOptions opts = { 0 };
      /* A bare-user package cache (compose) or a host's bare system repo (layering). */
      opts.mode = ostree_repo_get_mode (repo) == OSTREE_REPO_MODE_BARE
                      ? OSTREE_REPO_CHECKOUT_MODE_NONE
                      : OSTREE_REPO_CHECKOUT_MODE_USER;
      /* Identical files may be shipped by several packages; different ones conflict. */
      opts.overwrite_mode = OSTREE_REPO_CHECKOUT_OVERWRITE_UNION_IDENTICAL;
      opts.no_copy_fallback = TRUE;
      opts.devino_to_csum_cache = devino;
      if (!ostree_repo_checkout_at (repo, &opts, rootfs_dfd, rootfs_name, pkg_commits->pdata[i],
                                    cancellable, error))
        {
          g_prefix_error (error, "file conflict while adding package %s: ",
                          (char *)pkg_names->pdata[i]);
          return FALSE;
        }
      tc_output_percent ((i + 1) * 100 / pkg_commits->len, "Assembling %u packages",
                         pkg_commits->len);
    }
  return TRUE;
}

/* The RPM header in the metadata of package commit @commit_checksum. */
static Header
header_from_metadata (GVariant *metadata, const char *commit_checksum, GError **error)
{
  g_autoptr(GVariant) blob
      = g_variant_lookup_value (metadata, "treectl.rpm.header", G_VARIANT_TYPE_BYTESTRING);
  if (!blob)
    return (tc_throw (error, "package commit %s has no treectl.rpm.header", commit_checksum),
            NULL);
  gsize len = 0;
  const guint8 *data = g_variant_get_fixed_array (blob, &len, 1);
  Header h = headerImport ((void *)data, len, HEADERIMPORT_COPY);
  if (!h)
    return (tc_throw (error, "package commit %s: stored RPM header is invalid", commit_checksum),
            NULL);
  return h;
}

Header
tc_assembler_load_header (OstreeRepo *repo, const char *commit_checksum, GError **error)
{
  g_autoptr(GVariant) commit = NULL;
  if (!ostree_repo_load_commit (repo, commit_checksum, &commit, NULL, error))
    return NULL;
  g_autoptr(GVariant) metadata = g_variant_get_child_value (commit, 0);
  return header_from_metadata (metadata, commit_checksum, error);
}

static gboolean
ensure_symlink (const char *rootfs, const char *path, const char *target, GError **error)
{
  g_autofree char *full = g_build_filename (rootfs, path, NULL);
  g_autofree char *dir = g_path_get_dirname (full);
  if (g_mkdir_with_parents (dir, 0755) < 0)
    return tc_throw_errno_prefix (error, "mkdir %s", dir);
  if (g_file_test (full, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK))
    return TRUE;
  if (symlink (target, full) < 0)
    return tc_throw_errno_prefix (error, "symlink %s", path);
  return TRUE;
}

/* A transaction that only erases @erase_nevras from the database at @ts's path (it runs no
 * scripts and touches no files). */
static gboolean
erase_packages (rpmts ts, const char *const *erase_nevras, const char *rootfs, GError **error)
{
  if (rpmtsOpenDB (ts, O_RDWR) != 0)
    return tc_throw (error, "rpmdb: cannot open the database in %s", rootfs);
  for (const char *const *e = erase_nevras; *e; e++)
    {
      gboolean found = FALSE;
      rpmdbMatchIterator mi = rpmtsInitIterator (ts, RPMDBI_PACKAGES, NULL, 0);
      Header h;
      while (mi && (h = rpmdbNextIterator (mi)) != NULL)
        {
          g_autofree char *nevra = tc_rpm_header_nevra (h);
          if (g_str_equal (nevra, *e))
            {
              found = rpmtsAddEraseElement (ts, h, rpmdbGetIteratorOffset (mi)) == 0;
              break;
            }
        }
      rpmdbFreeIterator (mi);
      if (!found)
        return tc_throw (error, "rpmdb: cannot remove %s: it is not in the database", *e);
    }
  rpmtsOrder (ts);
  int rc = rpmtsRun (ts, NULL, RPMPROB_FILTER_DISKSPACE | RPMPROB_FILTER_DISKNODES);
  if (rc != 0)
    {
      g_autoptr(GString) problems = g_string_new ("");
      rpmps ps = rpmtsProblems (ts);
      rpmpsi psi = rpmpsInitIterator (ps);
      rpmProblem prob;
      while ((prob = rpmpsiNext (psi)) != NULL)
        {
          char *text = rpmProblemString (prob);
          g_string_append_printf (problems, "\n  %s", text);
          free (text);
        }
      rpmpsFreeIterator (psi);
      rpmpsFree (ps);
      return tc_throw (error, "rpmdb: removing packages from the database in %s failed (rpm "
                              "returned %d)%s",
                       rootfs, rc, problems->str);
    }
  rpmtsEmpty (ts);
  return TRUE;
}

/* Records the package of commit @commit_checksum as installed, with the tags an install
 * adds to the header (as librpm's own install does): the transaction id and time, the color
 * and each file's state, "not installed" for the documentation the import left out. */
static gboolean
add_package (OstreeRepo *repo, rpmtxn txn, const char *commit_checksum, rpm_tid_t tid,
             rpm_color_t color, GError **error)
{
  g_autoptr(GVariant) commit = NULL;
  if (!ostree_repo_load_commit (repo, commit_checksum, &commit, NULL, error))
    return FALSE;
  g_autoptr(GVariant) metadata = g_variant_get_child_value (commit, 0);
  gboolean nodocs = FALSE;
  (void)g_variant_lookup (metadata, "treectl.nodocs", "b", &nodocs);
  Header h = header_from_metadata (metadata, commit_checksum, error);
  if (!h)
    return FALSE;
  struct rpmtd_s flags;
  if (headerGet (h, RPMTAG_FILEFLAGS, &flags, HEADERGET_MINMEM))
    {
      rpm_count_t n = rpmtdCount (&flags);
      g_autofree char *states = g_malloc0 (n ? n : 1);
      for (rpm_count_t i = 0; rpmtdNext (&flags) >= 0; i++)
        {
          const uint32_t *f = rpmtdGetUint32 (&flags);
          states[i] = nodocs && f && (*f & RPMFILE_DOC) ? RPMFILE_STATE_NOTINSTALLED
                                                         : RPMFILE_STATE_NORMAL;
        }
      rpmtdFreeData (&flags);
      headerDel (h, RPMTAG_FILESTATES);
      headerPutChar (h, RPMTAG_FILESTATES, states, n);
    }
  rpm_time_t now = (rpm_time_t)time (NULL);
  headerDel (h, RPMTAG_INSTALLTID);
  headerPutUint32 (h, RPMTAG_INSTALLTID, &tid, 1);
  headerDel (h, RPMTAG_INSTALLTIME);
  headerPutUint32 (h, RPMTAG_INSTALLTIME, &now, 1);
  headerDel (h, RPMTAG_INSTALLCOLOR);
  headerPutUint32 (h, RPMTAG_INSTALLCOLOR, &color, 1);
  rpmRC rc = rpmtsImportHeader (txn, h, 0);
  headerFree (h);
  if (rc != RPMRC_OK)
    return tc_throw (error, "rpmdb: cannot add the header of package commit %s",
                     commit_checksum);
  return TRUE;
}

gboolean
tc_assembler_write_rpmdb (OstreeRepo *repo, GPtrArray *pkg_commits,
                          const char *const *erase_nevras, const char *rootfs,
                          GCancellable *cancellable, GError **error)
{
  static gsize rpm_initialized;
  if (g_once_init_enter (&rpm_initialized))
    {
      rpmReadConfigFiles (NULL, NULL);
      g_once_init_leave (&rpm_initialized, 1);
    }
  g_autofree char *dbdir = g_build_filename (rootfs, "usr/lib/sysimage/rpm", NULL);
  if (g_mkdir_with_parents (dbdir, 0755) < 0)
    return tc_throw_errno_prefix (error, "mkdir %s", dbdir);
  /* Never touch the host's (or ~/.rpmdb): the database lives in the tree. The root stays
   * "/" with the tree's database path spelled out: with any other root librpm chroot()s the
   * whole process while it writes, which changes what every other thread's absolute paths
   * (libostree's /proc/self/fd/N links among them) mean. */
  rpmPushMacro (NULL, "_dbpath", NULL, dbdir, RMIL_CMDLINE);
  g_auto(rpmts) ts = rpmtsCreate ();
  gboolean ok = rpmtsSetRootDir (ts, "/") == 0;
  if (!ok)
    tc_throw (error, "rpmdb: cannot use root /");
  /* Only the database: no scripts, no plugins (SELinux, inhibitors) touching the host. */
  rpmtsSetFlags (ts, RPMTRANS_FLAG_JUSTDB | RPMTRANS_FLAG_NOSCRIPTS | RPMTRANS_FLAG_NOTRIGGERS
                         | RPMTRANS_FLAG_NOPLUGINS | RPMTRANS_FLAG_NOCONTEXTS);
  rpmtsSetVSFlags (ts, _RPMVSF_NOSIGNATURES | _RPMVSF_NODIGESTS);
  if (ok && erase_nevras && erase_nevras[0])
    ok = erase_packages (ts, erase_nevras, rootfs, error);
  /* The packages are added to the database directly, not by a transaction run: the files
   * are in the tree already, and a run would only fingerprint each of them against the
   * host's root and then syncfs() the filesystem that holds the tree. */
  rpmtxn txn = ok ? rpmtxnBegin (ts, RPMTXN_WRITE) : NULL;
  if (ok && !txn)
    ok = tc_throw (error, "rpmdb: cannot lock the database in %s", rootfs);
  rpm_tid_t tid = rpmtsGetTid (ts);
  for (guint i = 0; ok && i < pkg_commits->len; i++)
    ok = add_package (repo, txn, pkg_commits->pdata[i], tid, rpmtsColor (ts), error);
  if (txn)
    rpmtxnEnd (txn);
  rpmtsCloseDB (ts);
  rpmPopMacro (NULL, "_dbpath");
  if (!ok)
    return FALSE;
  /* Only the database belongs in the tree: not librpm's lock nor SQLite's shared-memory
   * and write-ahead files, which readers would otherwise write to through hardlinks. */
  static const char *const transient[] = { ".rpm.lock", "rpmdb.sqlite-shm", "rpmdb.sqlite-wal" };
  for (guint i = 0; i < G_N_ELEMENTS (transient); i++)
    {
      g_autofree char *path = g_build_filename (dbdir, transient[i], NULL);
      if (unlink (path) < 0 && errno != ENOENT)
        return tc_throw_errno_prefix (error, "removing %s", path);
    }
  /* Older tools look in /usr/share/rpm and /var/lib/rpm. */
  if (!ensure_symlink (rootfs, "usr/share/rpm", "../lib/sysimage/rpm", error))
    return FALSE;
  return TRUE;
}

/* uid or gid of @name in a passwd/group file of the tree, or -1. */
static gint64
lookup_id (const char *rootfs, const char *db, const char *name)
{
  g_autofree char *path = g_build_filename (rootfs, "usr/etc", db, NULL);
  g_autofree char *contents = NULL;
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_auto(GStrv) fields = g_strsplit (*l, ":", 4);
      if (g_strv_length (fields) >= 3 && g_str_equal (fields[0], name))
        return g_ascii_strtoll (fields[2], NULL, 10);
    }
  return -1;
}

gboolean
tc_assembler_apply_ownership (OstreeRepo *repo, GPtrArray *pkg_commits, const char *rootfs,
                              GError **error)
{
  for (guint i = 0; i < pkg_commits->len; i++)
    {
      g_autoptr(GVariant) commit = NULL;
      if (!ostree_repo_load_commit (repo, pkg_commits->pdata[i], &commit, NULL, error))
        return FALSE;
      g_autoptr(GVariant) md = g_variant_get_child_value (commit, 0);
      g_autoptr(GVariant) files
          = g_variant_lookup_value (md, "treectl.nonroot-files", G_VARIANT_TYPE ("a(sss)"));
      if (!files)
        continue;
      GVariantIter iter;
      const char *path, *user, *group;
      g_variant_iter_init (&iter, files);
      while (g_variant_iter_next (&iter, "(&s&s&s)", &path, &user, &group))
        {
          gint64 uid = lookup_id (rootfs, "passwd", user);
          gint64 gid = lookup_id (rootfs, "group", group);
          if (uid < 0)
            return tc_throw (error, "%s is owned by user \"%s\", which no package or scriptlet "
                                    "created", path, user);
          if (gid < 0)
            return tc_throw (error, "%s is owned by group \"%s\", which no package or scriptlet "
                                    "created", path, group);
          g_autofree char *full = g_build_filename (rootfs, path, NULL);
          struct stat st;
          if (lstat (full, &st) < 0)
            continue; /* removed since (remove-files) */
          /* Never chown a file shared with the package cache: copy it first. */
          if (!tc_break_hardlink (full, error))
            return FALSE;
          if (lchown (full, (uid_t)uid, (gid_t)gid) < 0)
            return tc_throw_errno_prefix (error, "chown %s", path);
          if (S_ISREG (st.st_mode) || S_ISDIR (st.st_mode))
            (void)chmod (full, st.st_mode & 07777);
        }
    }
  return TRUE;
}

/* Where a package path lives in the tree (the importer's translation, for the cases that
 * matter to deletion). */
static char *
tree_path_for (const char *path)
{
  while (*path == '/')
    path++;
  static const struct
  {
    const char *from, *to;
  } map[] = { { "etc/", "usr/etc/" }, { "boot/", "usr/lib/ostree-boot/" },
              { "opt/", "usr/lib/opt/" }, { "bin/", "usr/bin/" }, { "sbin/", "usr/sbin/" },
              { "lib/", "usr/lib/" }, { "lib64/", "usr/lib64/" } };
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_str_has_prefix (path, map[i].from))
      return g_strconcat (map[i].to, path + strlen (map[i].from), NULL);
  return g_strdup (path);
}

gboolean
tc_assembler_remove_from_packages (OstreeRepo *repo, GPtrArray *pkg_commits, GPtrArray *pkg_names,
                                   JsonArray *rules, const char *rootfs, GError **error)
{
  for (guint r = 0; rules && r < json_array_get_length (rules); r++)
    {
      JsonArray *rule = json_array_get_array_element (rules, r);
      guint n = rule ? json_array_get_length (rule) : 0;
      if (n < 2)
        return tc_throw (error, "remove-from-packages entry %u: expected [PACKAGE, REGEX...]", r);
      const char *pkg = json_array_get_string_element (rule, 0);
      g_autoptr(GPtrArray) regexes = g_ptr_array_new_with_free_func ((GDestroyNotify)g_regex_unref);
      for (guint i = 1; i < n; i++)
        {
          g_autoptr(GError) local_error = NULL;
          const char *pattern = json_array_get_string_element (rule, i);
          GRegex *re = g_regex_new (pattern, 0, 0, &local_error);
          if (!re)
            return tc_throw (error, "remove-from-packages: %s: invalid regex \"%s\": %s", pkg,
                             pattern, local_error->message);
          g_ptr_array_add (regexes, re);
        }
      gint found = -1;
      for (guint i = 0; i < pkg_names->len && found < 0; i++)
        {
          Header h = tc_assembler_load_header (repo, pkg_commits->pdata[i], error);
          if (!h)
            return FALSE;
          if (g_strcmp0 (headerGetString (h, RPMTAG_NAME), pkg) == 0)
            {
              found = i;
              rpmfi fi = rpmfiNew (NULL, h, RPMTAG_BASENAMES, RPMFI_FLAGS_QUERY);
              while (fi && rpmfiNext (fi) >= 0)
                {
                  const char *fn = rpmfiFN (fi);
                  gboolean match = FALSE;
                  for (guint k = 0; k < regexes->len && !match; k++)
                    match = g_regex_match (regexes->pdata[k], fn, 0, NULL);
                  if (!match || S_ISDIR (rpmfiFMode (fi)))
                    continue;
                  g_autofree char *rel = tree_path_for (fn);
                  g_autofree char *full = g_build_filename (rootfs, rel, NULL);
                  if (unlink (full) < 0 && errno != ENOENT)
                    {
                      rpmfiFree (fi);
                      headerFree (h);
                      return tc_throw_errno_prefix (error, "remove-from-packages: removing %s", fn);
                    }
                }
              rpmfiFree (fi);
            }
          headerFree (h);
        }
      if (found < 0)
        return tc_throw (error, "remove-from-packages: package \"%s\" is not in the compose", pkg);
    }
  return TRUE;
}

gboolean
tc_assembler_finish_commit (OstreeRepo *repo, OstreeMutableTree *mtree, const char *parent,
                            const char *subject, GVariant *metadata, const char *ref,
                            char **out_commit, OstreeRepoTransactionStats *stats,
                            GCancellable *cancellable, GError **error)
{
  g_autoptr(GFile) root = NULL;
  g_autofree char *commit = NULL;
  if (!ostree_repo_write_mtree (repo, mtree, &root, cancellable, error))
    {
      ostree_repo_abort_transaction (repo, NULL, NULL);
      return FALSE;
    }
  /* ostree.bootable and ostree.linux from the tree's kernel. */
  g_auto(GVariantDict) md;
  g_variant_dict_init (&md, metadata);
  if (!ostree_commit_metadata_for_bootable (root, &md, cancellable, error))
    {
      ostree_repo_abort_transaction (repo, NULL, NULL);
      g_prefix_error (error, "the tree is not bootable: ");
      return FALSE;
    }
  g_autoptr(GVariant) full_md = g_variant_ref_sink (g_variant_dict_end (&md));
  if (!ostree_repo_write_commit (repo, parent, subject, NULL, full_md, OSTREE_REPO_FILE (root),
                                 &commit, cancellable, error))
    {
      ostree_repo_abort_transaction (repo, NULL, NULL);
      return FALSE;
    }
  if (ref)
    ostree_repo_transaction_set_ref (repo, NULL, ref, commit);
  if (!ostree_repo_commit_transaction (repo, stats, cancellable, error))
    return FALSE;
  *out_commit = g_steal_pointer (&commit);
  return TRUE;
}

gboolean
tc_assembler_commit (OstreeRepo *repo, const char *rootfs, OstreeRepoDevInoCache *devino,
                     const char *parent, const char *subject, GVariant *metadata,
                     const char *ref, char **out_commit, OstreeRepoTransactionStats *stats,
                     GCancellable *cancellable, GError **error)
{
  if (!ostree_repo_prepare_transaction (repo, NULL, cancellable, error))
    return FALSE;
  g_autoptr(OstreeRepoCommitModifier) modifier = ostree_repo_commit_modifier_new (
      OSTREE_REPO_COMMIT_MODIFIER_FLAGS_DEVINO_CANONICAL, NULL, NULL, NULL);
  ostree_repo_commit_modifier_set_devino_cache (modifier, devino);
  g_autoptr(OstreeMutableTree) mtree = ostree_mutable_tree_new ();
  if (!ostree_repo_write_dfd_to_mtree (repo, AT_FDCWD, rootfs, mtree, modifier, cancellable,
                                       error))
    {
      ostree_repo_abort_transaction (repo, NULL, NULL);
      return FALSE;
    }
  return tc_assembler_finish_commit (repo, mtree, parent, subject, metadata, ref, out_commit,
                                     stats, cancellable, error);
}

/* Adds the dirtree @tree_csum (at @path, for messages) of package @pkg to @dest. */
static gboolean
merge_dirtree (OstreeRepo *repo, OstreeMutableTree *dest, const char *tree_csum,
               const char *path, const char *pkg, GError **error)
{
  g_autoptr(GVariant) tree = NULL;
  if (!ostree_repo_load_variant (repo, OSTREE_OBJECT_TYPE_DIR_TREE, tree_csum, &tree, error))
    return FALSE;
  g_autoptr(GVariant) files = g_variant_get_child_value (tree, 0);
  g_autoptr(GVariant) dirs = g_variant_get_child_value (tree, 1);
  for (gsize i = 0; i < g_variant_n_children (files); i++)
    {
      const char *name;
      g_autoptr(GVariant) csum_v = NULL;
      g_variant_get_child (files, i, "(&s@ay)", &name, &csum_v);
      char csum[OSTREE_SHA256_STRING_LEN + 1];
      ostree_checksum_inplace_from_bytes (ostree_checksum_bytes_peek (csum_v), csum);
      g_autofree char *existing = NULL;
      g_autoptr(OstreeMutableTree) existing_dir = NULL;
      g_autoptr(GError) local_error = NULL;
      if (ostree_mutable_tree_lookup (dest, name, &existing, &existing_dir, &local_error))
        {
          if (existing && g_str_equal (existing, csum))
            continue; /* the same file, as in a union checkout */
          return tc_throw (error, "file conflict while adding package %s: /%s%s already exists %s",
                           pkg, path, name,
                           existing ? "with different content" : "as a directory");
        }
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return (g_propagate_error (error, g_steal_pointer (&local_error)), FALSE);
      if (!ostree_mutable_tree_replace_file (dest, name, csum, error))
        return FALSE;
    }
  for (gsize i = 0; i < g_variant_n_children (dirs); i++)
    {
      const char *name;
      g_autoptr(GVariant) tree_v = NULL;
      g_autoptr(GVariant) meta_v = NULL;
      g_variant_get_child (dirs, i, "(&s@ay@ay)", &name, &tree_v, &meta_v);
      char sub_tree[OSTREE_SHA256_STRING_LEN + 1], sub_meta[OSTREE_SHA256_STRING_LEN + 1];
      ostree_checksum_inplace_from_bytes (ostree_checksum_bytes_peek (tree_v), sub_tree);
      ostree_checksum_inplace_from_bytes (ostree_checksum_bytes_peek (meta_v), sub_meta);
      g_autofree char *existing = NULL;
      g_autoptr(OstreeMutableTree) sub = NULL;
      g_autoptr(GError) local_error = NULL;
      if (ostree_mutable_tree_lookup (dest, name, &existing, &sub, &local_error) && existing)
        return tc_throw (error, "file conflict while adding package %s: /%s%s is a directory "
                                "in the package and a file in the tree",
                         pkg, path, name);
      if (!sub)
        {
          if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            return (g_propagate_error (error, g_steal_pointer (&local_error)), FALSE);
          if (!ostree_mutable_tree_ensure_dir (dest, name, &sub, error))
            return FALSE;
          /* A directory no earlier package has is the package's own dirtree, loaded only if
           * a later package adds to it: most of a tree is never read, nor written again. */
          if (ostree_mutable_tree_fill_empty_from_dirtree (sub, repo, sub_tree, sub_meta))
            continue;
          ostree_mutable_tree_set_metadata_checksum (sub, sub_meta);
        }
      g_autofree char *sub_path = g_strconcat (path, name, "/", NULL);
      if (!merge_dirtree (repo, sub, sub_tree, sub_path, pkg, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
tc_assembler_merge_into_mtree (OstreeRepo *repo, OstreeMutableTree *mtree,
                               GPtrArray *pkg_commits, GPtrArray *pkg_names, GError **error)
{
  for (guint i = 0; i < pkg_commits->len; i++)
    {
      g_autoptr(GVariant) commit = NULL;
      if (!ostree_repo_load_commit (repo, pkg_commits->pdata[i], &commit, NULL, error))
        return FALSE;
      g_autoptr(GVariant) tree_v = g_variant_get_child_value (commit, 6);
      char tree_csum[OSTREE_SHA256_STRING_LEN + 1];
      ostree_checksum_inplace_from_bytes (ostree_checksum_bytes_peek (tree_v), tree_csum);
      if (!merge_dirtree (repo, mtree, tree_csum, "", pkg_names->pdata[i], error))
        return FALSE;
    }
  return TRUE;
}

GPtrArray *
tc_assembler_package_paths (Header h)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  rpmfi fi = rpmfiNew (NULL, h, RPMTAG_BASENAMES, RPMFI_FLAGS_QUERY);
  while (fi && rpmfiNext (fi) >= 0)
    {
      rpm_mode_t mode = rpmfiFMode (fi);
      if (S_ISDIR (mode))
        continue; /* directories may be shared; an empty one is harmless */
      const char *fn = rpmfiFN (fi);
      g_autofree char *line = NULL;
      g_autoptr(GError) local_error = NULL;
      char *tree_path = tc_importer_translate_path (fn + (*fn == '/'), FALSE, rpmfiFUser (fi),
                                                    rpmfiFGroup (fi), mode, rpmfiFLink (fi),
                                                    &line, &local_error);
      if (tree_path)
        g_ptr_array_add (paths, tree_path);
    }
  rpmfiFree (fi);
  g_ptr_array_add (paths, g_strdup_printf ("usr/lib/tmpfiles.d/pkg-%s.conf",
                                           headerGetString (h, RPMTAG_NAME)));
  return g_steal_pointer (&paths);
}
