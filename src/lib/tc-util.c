/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Small helpers shared by every part of libtreectl. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ostree.h>

#include "tc-util.h"

gboolean
tc_throw (GError **error, const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, msg);
  return FALSE;
}

gboolean
tc_throw_errno_prefix (GError **error, const char *fmt, ...)
{
  int errsv = errno;
  va_list args;
  va_start (args, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", msg,
               g_strerror (errsv));
  errno = errsv;
  return FALSE;
}

void
tc_test_pause (const char *point)
{
  const char *want = g_getenv ("TREECTL_TEST_PAUSE");
  if (want == NULL || strcmp (want, point) != 0)
    return;
  const char *secs_str = g_getenv ("TREECTL_TEST_PAUSE_SECONDS");
  guint secs = secs_str ? (guint)g_ascii_strtoull (secs_str, NULL, 10) : 30;
  g_printerr ("treectl: test pause at %s for %u s\n", point, secs);
  g_usleep ((gulong)secs * G_USEC_PER_SEC);
}

gboolean
tc_parse_refspec (const char *refspec, char **out_remote, char **out_ref, GError **error)
{
  const char *colon = strchr (refspec, ':');
  g_autofree char *remote = NULL;
  const char *ref = refspec;
  if (colon)
    {
      remote = g_strndup (refspec, colon - refspec);
      ref = colon + 1;
      if (*remote == '\0')
        return tc_throw (error, "invalid refspec \"%s\": empty remote name", refspec);
    }
  if (*ref == '\0')
    return tc_throw (error, "invalid refspec \"%s\": empty ref", refspec);
  g_autoptr(GError) local_error = NULL;
  if (!ostree_validate_rev (ref, &local_error))
    return tc_throw (error, "invalid refspec \"%s\": %s", refspec, local_error->message);
  if (remote && !ostree_validate_remote_name (remote, &local_error))
    return tc_throw (error, "invalid refspec \"%s\": %s", refspec, local_error->message);
  *out_remote = g_steal_pointer (&remote);
  *out_ref = g_strdup (ref);
  return TRUE;
}

gboolean
tc_is_checksum_prefix (const char *s)
{
  size_t n = strlen (s);
  if (n < 8 || n > 64)
    return FALSE;
  for (size_t i = 0; i < n; i++)
    if (!g_ascii_isxdigit (s[i]) || g_ascii_isupper (s[i]))
      return FALSE;
  return TRUE;
}

/* Empties the directory @dfd (which it closes) and everything below it: file descriptors
 * and readdir()'s d_type rather than a path and an lstat() per entry, since the composed
 * roots this removes hold tens of thousands of files. @path is for messages. */
static gboolean
empty_dir_fd (int dfd, const char *path, GError **error)
{
  int attr = 0;
  if (ioctl (dfd, FS_IOC_GETFLAGS, &attr) == 0 && (attr & FS_IMMUTABLE_FL))
    {
      attr &= ~FS_IMMUTABLE_FL;
      (void)ioctl (dfd, FS_IOC_SETFLAGS, &attr);
    }
  DIR *d = fdopendir (dfd);
  if (!d)
    {
      int errsv = errno;
      close (dfd);
      errno = errsv;
      return tc_throw_errno_prefix (error, "opening %s", path);
    }
  struct dirent *ent;
  gboolean ok = TRUE;
  while (ok && (errno = 0, ent = readdir (d)) != NULL)
    {
      const char *name = ent->d_name;
      if (g_str_equal (name, ".") || g_str_equal (name, ".."))
        continue;
      gboolean is_dir = ent->d_type == DT_DIR;
      if (ent->d_type == DT_UNKNOWN)
        {
          struct stat st;
          if (fstatat (dirfd (d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            {
              if (errno == ENOENT)
                continue;
              ok = tc_throw_errno_prefix (error, "stat %s/%s", path, name);
              break;
            }
          is_dir = S_ISDIR (st.st_mode);
        }
      if (is_dir)
        {
          int child = openat (dirfd (d), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
          g_autofree char *child_path = g_build_filename (path, name, NULL);
          if (child < 0)
            ok = errno == ENOENT || tc_throw_errno_prefix (error, "opening %s", child_path);
          else
            ok = empty_dir_fd (child, child_path, error);
          if (ok && unlinkat (dirfd (d), name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            ok = tc_throw_errno_prefix (error, "removing %s", child_path);
        }
      else if (unlinkat (dirfd (d), name, 0) < 0 && errno != ENOENT)
        ok = tc_throw_errno_prefix (error, "removing %s/%s", path, name);
    }
  if (ok && errno != 0 && ent == NULL)
    ok = tc_throw_errno_prefix (error, "reading %s", path);
  closedir (d);
  return ok;
}

gboolean
tc_rm_rf (const char *path, gboolean keep_top, GError **error)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    return errno == ENOENT ? TRUE : tc_throw_errno_prefix (error, "stat %s", path);
  if (S_ISDIR (st.st_mode))
    {
      int dfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (dfd < 0)
        return tc_throw_errno_prefix (error, "opening %s", path);
      if (!empty_dir_fd (dfd, path, error))
        return FALSE;
      if (keep_top)
        return TRUE;
      if (rmdir (path) < 0)
        return tc_throw_errno_prefix (error, "removing %s", path);
      return TRUE;
    }
  if (keep_top)
    return TRUE;
  if (unlink (path) < 0 && errno != ENOENT)
    return tc_throw_errno_prefix (error, "removing %s", path);
  return TRUE;
}

gboolean
tc_break_hardlink (const char *path, GError **error)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    return tc_throw_errno_prefix (error, "stat %s", path);
  if (!S_ISREG (st.st_mode) || st.st_nlink <= 1)
    return TRUE;
  g_autofree char *contents = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  g_autofree char *tmp = g_strconcat (path, ".treectl-tmp", NULL);
  if (!g_file_set_contents_full (tmp, contents, len, G_FILE_SET_CONTENTS_NONE, st.st_mode & 07777,
                                 error))
    return FALSE;
  if (chmod (tmp, st.st_mode & 07777) < 0 || rename (tmp, path) < 0)
    {
      int errsv = errno;
      (void)unlink (tmp);
      errno = errsv;
      return tc_throw_errno_prefix (error, "replacing %s", path);
    }
  return TRUE;
}

gboolean
tc_break_hardlinks_below (const char *dir, GError **error)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, error);
  if (!d)
    return FALSE;
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      struct stat st;
      if (lstat (path, &st) < 0)
        return tc_throw_errno_prefix (error, "stat %s", path);
      if (S_ISDIR (st.st_mode))
        {
          if (!tc_break_hardlinks_below (path, error))
            return FALSE;
        }
      else if (!tc_break_hardlink (path, error))
        return FALSE;
    }
  return TRUE;
}

void
tc_commit_get_root (GVariant *commit, char **out_tree, char **out_meta)
{
  if (out_tree)
    {
      g_autoptr(GVariant) t = g_variant_get_child_value (commit, 6);
      *out_tree = ostree_checksum_from_bytes_v (t);
    }
  if (out_meta)
    {
      g_autoptr(GVariant) m = g_variant_get_child_value (commit, 7);
      *out_meta = ostree_checksum_from_bytes_v (m);
    }
}

gboolean
tc_dirtree_load (OstreeRepo *repo, const char *checksum, GHashTable **out_files,
                 GHashTable **out_dirs, GError **error)
{
  g_autoptr(GVariant) v = NULL;
  if (!ostree_repo_load_variant (repo, OSTREE_OBJECT_TYPE_DIR_TREE, checksum, &v, error))
    return FALSE;
  g_autoptr(GHashTable) files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) dirs
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
  g_autoptr(GVariant) file_list = g_variant_get_child_value (v, 0);
  g_autoptr(GVariant) dir_list = g_variant_get_child_value (v, 1);
  GVariantIter it;
  const char *name;
  GVariant *a, *b;
  g_variant_iter_init (&it, file_list);
  while (g_variant_iter_loop (&it, "(&s@ay)", &name, &a))
    g_hash_table_insert (files, g_strdup (name), ostree_checksum_from_bytes_v (a));
  g_variant_iter_init (&it, dir_list);
  while (g_variant_iter_loop (&it, "(&s@ay@ay)", &name, &a, &b))
    {
      char **pair = g_new0 (char *, 3);
      pair[0] = ostree_checksum_from_bytes_v (a);
      pair[1] = ostree_checksum_from_bytes_v (b);
      g_hash_table_insert (dirs, g_strdup (name), pair);
    }
  *out_files = g_steal_pointer (&files);
  *out_dirs = g_steal_pointer (&dirs);
  return TRUE;
}
