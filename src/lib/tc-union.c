/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The compose root as an overlay over a cached union checkout (see tc-union.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tc-union.h"
#include "tc-util.h"

#define UNION_REF "treectl/union"

struct TcUnionRoot
{
  char *rootfs;
  char *layers; /* holds upper/ and work/ */
  char *upper;
  gboolean mounted;
  int lock_fd;
};

void
tc_union_root_free (TcUnionRoot *u)
{
  if (!u)
    return;
  if (u->mounted && umount (u->rootfs) < 0)
    (void)umount2 (u->rootfs, MNT_DETACH);
  if (u->layers)
    (void)tc_rm_rf (u->layers, FALSE, NULL);
  if (u->lock_fd >= 0)
    close (u->lock_fd);
  g_free (u->rootfs);
  g_free (u->layers);
  g_free (u->upper);
  g_free (u);
}

/* The union tree as a commit of the package cache (a checkout needs one), kept on
 * UNION_REF. Time 0: the same tree gives the same commit. */
static char *
write_union_commit (OstreeRepo *repo, OstreeMutableTree *mtree, GCancellable *cancellable,
                    GError **error)
{
  if (!ostree_repo_prepare_transaction (repo, NULL, cancellable, error))
    return NULL;
  g_autoptr(GFile) root = NULL;
  g_autofree char *commit = NULL;
  if (!ostree_repo_write_mtree (repo, mtree, &root, cancellable, error)
      || !ostree_repo_write_commit_with_time (repo, NULL, "treectl union checkout", NULL, NULL,
                                              OSTREE_REPO_FILE (root), 0, &commit, cancellable,
                                              error))
    {
      ostree_repo_abort_transaction (repo, NULL, NULL);
      return NULL;
    }
  ostree_repo_transaction_set_ref (repo, NULL, UNION_REF, commit);
  if (!ostree_repo_commit_transaction (repo, NULL, cancellable, error))
    return NULL;
  return g_steal_pointer (&commit);
}

static gboolean
commit_root (OstreeRepo *repo, const char *commit, char **out_tree, char **out_meta,
             GError **error)
{
  g_autoptr(GVariant) v = NULL;
  if (!ostree_repo_load_commit (repo, commit, &v, NULL, error))
    return FALSE;
  tc_commit_get_root (v, out_tree, out_meta);
  return TRUE;
}

/* Checks out directory @subpath of @commit as @dest (which must not exist), as the plain
 * compose assembly checks packages out. */
static gboolean
checkout_subpath (OstreeRepo *repo, const char *commit, const char *subpath, const char *dest,
                  GCancellable *cancellable, GError **error)
{
  OstreeRepoCheckoutAtOptions opts = { 0 };
  opts.mode = OSTREE_REPO_CHECKOUT_MODE_USER;
  opts.no_copy_fallback = TRUE;
  opts.subpath = subpath;
  return ostree_repo_checkout_at (repo, &opts, AT_FDCWD, dest, commit, cancellable, error);
}

typedef struct
{
  OstreeRepo *repo;
  const char *commit; /* the new union commit */
  GCancellable *cancellable;
} Sync;

/* Links the content object @csum as @name in @dfd (a symlink object becomes a symlink). */
static gboolean
place_file (Sync *s, int dfd, const char *path, const char *name, const char *csum,
            GError **error)
{
  g_autoptr(GFileInfo) info = NULL;
  if (!ostree_repo_load_file (s->repo, csum, NULL, &info, NULL, s->cancellable, error))
    return FALSE;
  for (int attempt = 0; attempt < 2; attempt++)
    {
      int r;
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_SYMBOLIC_LINK)
        r = symlinkat (g_file_info_get_symlink_target (info), dfd, name);
      else
        {
          /* The loose object of a bare-user repository (ostree's documented layout). */
          g_autofree char *rel = g_strdup_printf ("objects/%.2s/%s.file", csum, csum + 2);
          r = linkat (ostree_repo_get_dfd (s->repo), rel, dfd, name, 0);
        }
      if (r == 0)
        return TRUE;
      if (errno != EEXIST || attempt > 0 || unlinkat (dfd, name, 0) < 0)
        break;
    }
  return tc_throw_errno_prefix (error, "linking %s/%s", path, name);
}

static gboolean sync_dir (Sync *s, const char *path, const char *subpath, const char *old_tree,
                          const char *new_tree, GError **error);

static gboolean
sync_dir_at (Sync *s, int dfd, const char *path, const char *subpath, GHashTable *old_files,
             GHashTable *old_dirs, GHashTable *new_files, GHashTable *new_dirs, GError **error)
{
  GHashTableIter it;
  gpointer k, v;
  /* Removals first: a name may change from file to directory or back. */
  g_hash_table_iter_init (&it, old_files);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      const char *now = g_hash_table_lookup (new_files, k);
      if ((!now || !g_str_equal (now, v)) && unlinkat (dfd, k, 0) < 0 && errno != ENOENT)
        return tc_throw_errno_prefix (error, "removing %s/%s", path, (char *)k);
    }
  g_hash_table_iter_init (&it, old_dirs);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      char **now = g_hash_table_lookup (new_dirs, k);
      if (now && g_str_equal (now[1], ((char **)v)[1]))
        continue;
      g_autofree char *child = g_build_filename (path, k, NULL);
      if (!tc_rm_rf (child, FALSE, error))
        return FALSE;
    }
  g_hash_table_iter_init (&it, new_files);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      const char *before = g_hash_table_lookup (old_files, k);
      if ((!before || !g_str_equal (before, v)) && !place_file (s, dfd, path, k, v, error))
        return FALSE;
    }
  g_hash_table_iter_init (&it, new_dirs);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      char **now = v;
      char **before = g_hash_table_lookup (old_dirs, k);
      g_autofree char *child = g_build_filename (path, k, NULL);
      g_autofree char *child_sub = g_build_filename (subpath, k, NULL);
      gboolean ok = before && g_str_equal (before[1], now[1])
                        ? sync_dir (s, child, child_sub, before[0], now[0], error)
                        : checkout_subpath (s->repo, s->commit, child_sub, child, s->cancellable,
                                            error);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* Brings the checkout directory @path (tree @subpath of the union) from @old_tree to
 * @new_tree, both of the same directory metadata. */
static gboolean
sync_dir (Sync *s, const char *path, const char *subpath, const char *old_tree,
          const char *new_tree, GError **error)
{
  if (g_str_equal (old_tree, new_tree))
    return TRUE;
  g_autoptr(GHashTable) old_files = NULL, old_dirs = NULL, new_files = NULL, new_dirs = NULL;
  if (!tc_dirtree_load (s->repo, old_tree, &old_files, &old_dirs, error)
      || !tc_dirtree_load (s->repo, new_tree, &new_files, &new_dirs, error))
    return FALSE;
  int dfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dfd < 0)
    return tc_throw_errno_prefix (error, "opening %s", path);
  gboolean ok = sync_dir_at (s, dfd, path, subpath, old_files, old_dirs, new_files, new_dirs,
                             error);
  close (dfd);
  return ok;
}

/* Brings @lower (which held @old_commit, or anything when that is NULL) to @new_commit. */
static gboolean
update_lower (OstreeRepo *repo, const char *lower, const char *old_commit,
              const char *new_commit, GCancellable *cancellable, GError **error)
{
  g_autofree char *old_tree = NULL, *old_meta = NULL, *new_tree = NULL, *new_meta = NULL;
  if (!commit_root (repo, new_commit, &new_tree, &new_meta, error))
    return FALSE;
  if (old_commit && g_file_test (lower, G_FILE_TEST_IS_DIR)
      && commit_root (repo, old_commit, &old_tree, &old_meta, NULL)
      && g_str_equal (old_meta, new_meta))
    {
      Sync s = { .repo = repo, .commit = new_commit, .cancellable = cancellable };
      return sync_dir (&s, lower, "/", old_tree, new_tree, error);
    }
  if (!tc_rm_rf (lower, FALSE, error))
    return FALSE;
  return checkout_subpath (repo, new_commit, "/", lower, cancellable, error);
}

/* What a compose that stopped (killed, crashed) while holding the lock left in @tmp: its
 * overlay, still mounted on a rootfs-* directory, and its layers. Root directories themselves
 * are left alone: a compose that assembles a plain checkout may be using one. */
static void
clear_stale_layers (const char *tmp)
{
  g_autoptr(GDir) d = g_dir_open (tmp, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (tmp, name, NULL);
      if (g_str_has_prefix (name, "rootfs-"))
        (void)umount2 (path, MNT_DETACH);
      else if (g_str_has_prefix (name, "overlay-"))
        (void)tc_rm_rf (path, FALSE, NULL);
    }
}

TcUnionRoot *
tc_union_root_new (OstreeRepo *pkgcache, const char *cachedir, OstreeMutableTree *union_tree,
                   const char *rootfs, char **out_why, GCancellable *cancellable, GError **error)
{
  *out_why = NULL;
  if (g_getenv ("TREECTL_COMPOSE_NO_OVERLAY"))
    {
      *out_why = g_strdup ("TREECTL_COMPOSE_NO_OVERLAY is set");
      return NULL;
    }
  g_autofree char *dir = g_build_filename (cachedir, "union", NULL);
  g_autofree char *tmp = g_build_filename (cachedir, "tmp", NULL);
  if (strpbrk (dir, ",:\\") || strpbrk (tmp, ",:\\"))
    {
      *out_why = g_strdup_printf ("overlayfs options cannot name %s", cachedir);
      return NULL;
    }
  if (g_mkdir_with_parents (dir, 0755) < 0 || g_mkdir_with_parents (tmp, 0755) < 0)
    return (tc_throw_errno_prefix (error, "mkdir %s", dir), NULL);

  g_autoptr(TcUnionRoot) u = g_new0 (TcUnionRoot, 1);
  u->lock_fd = -1;
  g_autofree char *lock = g_build_filename (dir, "lock", NULL);
  u->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (u->lock_fd < 0)
    return (tc_throw_errno_prefix (error, "opening %s", lock), NULL);
  if (flock (u->lock_fd, LOCK_EX | LOCK_NB) < 0)
    {
      *out_why = g_strdup_printf ("another compose is using %s", dir);
      return NULL;
    }

  clear_stale_layers (tmp);
  g_autofree char *commit = write_union_commit (pkgcache, union_tree, cancellable, error);
  if (!commit)
    return NULL;
  /* The stamp names the union commit the checkout holds; it is absent while the checkout
   * is being changed, so an interrupted update is rebuilt. */
  g_autofree char *stamp = g_build_filename (dir, "commit", NULL);
  g_autofree char *lower = g_build_filename (dir, "root", NULL);
  g_autofree char *old_commit = NULL;
  if (g_file_get_contents (stamp, &old_commit, NULL, NULL))
    g_strstrip (old_commit);
  if (!old_commit || !g_str_equal (old_commit, commit))
    {
      if (unlink (stamp) < 0 && errno != ENOENT)
        return (tc_throw_errno_prefix (error, "removing %s", stamp), NULL);
      if (!update_lower (pkgcache, lower, old_commit, commit, cancellable, error))
        return (g_prefix_error (error, "updating the union checkout %s: ", lower), NULL);
      if (!g_file_set_contents (stamp, commit, -1, error))
        return NULL;
    }

  g_autofree char *layers_template = g_build_filename (tmp, "overlay-XXXXXX", NULL);
  if (!g_mkdtemp (layers_template))
    return (tc_throw_errno_prefix (error, "mkdtemp in %s", tmp), NULL);
  u->layers = g_strdup (layers_template);
  u->upper = g_build_filename (u->layers, "upper", NULL);
  g_autofree char *work = g_build_filename (u->layers, "work", NULL);
  /* The merged root directory is the upper one: give it the lower root's metadata. */
  struct stat st;
  if (stat (lower, &st) < 0 || mkdir (u->upper, st.st_mode & 07777) < 0
      || chmod (u->upper, st.st_mode & 07777) < 0 || mkdir (work, 0700) < 0
      || (mkdir (rootfs, 0755) < 0 && errno != EEXIST))
    return (tc_throw_errno_prefix (error, "preparing the overlay in %s", u->layers), NULL);
  u->rootfs = g_strdup (rootfs);
  g_autofree char *options = g_strdup_printf (
      "lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=off,index=off,metacopy=off,xino=off",
      lower, u->upper, work);
  /* "volatile" (Linux 5.10): the upper layer is scratch space the commit is read from, so
   * neither a sync inside the root nor the unmount needs to flush the whole filesystem it
   * lives on. */
  g_autofree char *volatile_options = g_strconcat (options, ",volatile", NULL);
  if (mount ("overlay", rootfs, "overlay", 0, volatile_options) < 0
      && (errno != EINVAL || mount ("overlay", rootfs, "overlay", 0, options) < 0))
    {
      *out_why = g_strdup_printf ("overlayfs: %s", g_strerror (errno));
      (void)rmdir (rootfs);
      return NULL;
    }
  u->mounted = TRUE;
  return g_steal_pointer (&u);
}

static gboolean
is_layer_xattr (const char *name)
{
  return g_str_has_prefix (name, "trusted.overlay.") || g_str_equal (name, "user.ostreemeta");
}

/* Drops overlayfs's own xattrs and the package cache's user.ostreemeta (which a copied-up
 * file carries from the object it was linked to) from @path. */
static gboolean
strip_xattrs (const char *path, GError **error)
{
  char names[8192];
  ssize_t n = llistxattr (path, names, sizeof names);
  if (n < 0)
    return errno == ENOTSUP || tc_throw_errno_prefix (error, "listing xattrs of %s", path);
  for (char *p = names; p < names + n; p += strlen (p) + 1)
    if (is_layer_xattr (p) && lremovexattr (path, p) < 0 && errno != ENODATA)
      return tc_throw_errno_prefix (error, "removing xattr %s of %s", p, path);
  return TRUE;
}

static gboolean
remove_entry (OstreeMutableTree *node, const char *name, GError **error)
{
  return !node || ostree_mutable_tree_remove (node, name, TRUE, error);
}

/* Turns the upper directory @path into plain content over @node (its place in the union
 * tree, or NULL where the union has nothing): whiteouts remove entries, opaque directories
 * and type changes drop what the union had there, overlay xattrs go. */
static gboolean
prepare_upper (const char *path, OstreeMutableTree *node, GError **error)
{
  if (!strip_xattrs (path, error))
    return FALSE;
  g_autoptr(GDir) d = g_dir_open (path, 0, error);
  if (!d)
    return FALSE;
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      struct stat st;
      if (lstat (child, &st) < 0)
        return tc_throw_errno_prefix (error, "stat %s", child);
      if (S_ISCHR (st.st_mode) && st.st_rdev == 0)
        {
          if (!remove_entry (node, name, error))
            return FALSE;
          if (unlink (child) < 0)
            return tc_throw_errno_prefix (error, "removing %s", child);
          continue;
        }
      g_autofree char *file_csum = NULL;
      g_autoptr(OstreeMutableTree) subdir = NULL;
      g_autoptr(GError) local_error = NULL;
      if (node && !ostree_mutable_tree_lookup (node, name, &file_csum, &subdir, &local_error)
          && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return (g_propagate_error (error, g_steal_pointer (&local_error)), FALSE);
      if (S_ISDIR (st.st_mode))
        {
          char value[2] = { 0 };
          gboolean opaque = lgetxattr (child, "trusted.overlay.opaque", value, 1) == 1
                            && value[0] == 'y';
          if (file_csum || (subdir && opaque))
            {
              g_clear_object (&subdir);
              if (!remove_entry (node, name, error))
                return FALSE;
            }
          if (!prepare_upper (child, subdir, error))
            return FALSE;
        }
      else
        {
          if (subdir && !remove_entry (node, name, error))
            return FALSE;
          if (!strip_xattrs (child, error))
            return FALSE;
        }
    }
  return TRUE;
}

gboolean
tc_union_root_apply (TcUnionRoot *u, OstreeRepo *repo, OstreeMutableTree *mtree,
                     GCancellable *cancellable, GError **error)
{
  if (u->mounted)
    {
      if (umount (u->rootfs) < 0)
        return tc_throw_errno_prefix (error, "unmounting the overlay at %s", u->rootfs);
      u->mounted = FALSE;
    }
  if (!prepare_upper (u->upper, mtree, error))
    return FALSE;
  return ostree_repo_write_dfd_to_mtree (repo, AT_FDCWD, u->upper, mtree, NULL, cancellable,
                                         error);
}
