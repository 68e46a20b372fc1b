/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Content objects for an archive-mode output repo, compressed with libdeflate (see
 * tc-archive.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <libdeflate.h>

#include "tc-archive.h"
#include "tc-util.h"

/* libostree's default for archive.zlib-level, and its range. */
#define DEFAULT_LEVEL 6
/* libostree's default core.min-free-space-percent. */
#define DEFAULT_MIN_FREE_PERCENT 3
/* libostree's mode for objects/XX. */
#define OBJDIR_MODE 0775

struct TcArchiveStage
{
  char *repo_path;
  char *path; /* the stage: repo/tmp/treectl-stage-XXXXXX, laid out as objects/ is */
  int dfd;
  int objects_dfd;
  int level;
  gboolean sync;
  GMutex lock;
  GPtrArray *idle;    /* struct libdeflate_compressor, not in use */
  GHashTable *staged; /* checksum */
  guint64 reserve;    /* bytes the filesystem keeps free */
  char *free_rule;    /* the config that sets the reserve, for the error */
  GThread *remover;   /* removes the published stage */
};

GBytes *
tc_archive_file_header (GFileInfo *info, GVariant *xattrs)
{
  g_autoptr (GVariant) none = NULL;
  if (!xattrs)
    xattrs = none = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("(ayay)"), NULL, 0));
  const char *target = g_file_info_get_file_type (info) == G_FILE_TYPE_SYMBOLIC_LINK
                           ? g_file_info_get_symlink_target (info)
                           : "";
  g_autoptr (GVariant) v = g_variant_ref_sink (g_variant_new (
      "(tuuuus@a(ayay))", GUINT64_TO_BE ((guint64)g_file_info_get_size (info)),
      GUINT32_TO_BE (g_file_info_get_attribute_uint32 (info, "unix::uid")),
      GUINT32_TO_BE (g_file_info_get_attribute_uint32 (info, "unix::gid")),
      GUINT32_TO_BE (g_file_info_get_attribute_uint32 (info, "unix::mode")), 0, target, xattrs));
  gsize len = g_variant_get_size (v);
  guint8 *buf = g_malloc0 (8 + len);
  guint32 len_be = GUINT32_TO_BE ((guint32)len);
  memcpy (buf, &len_be, 4);
  g_variant_store (v, buf + 8);
  return g_bytes_new_take (buf, 8 + len);
}

/* The repo's core.min-free-space-size (with libostree's MB, GB and TB suffixes) or, without
 * it, core.min-free-space-percent, as bytes to keep free; *out_rule names it. */
static guint64
reserve_bytes (GKeyFile *config, const struct statvfs *st, char **out_rule)
{
  g_autofree char *size = g_key_file_get_string (config, "core", "min-free-space-size", NULL);
  if (size)
    {
      char *end = NULL;
      guint64 n = g_ascii_strtoull (size, &end, 10);
      guint shift = g_str_equal (end, "TB") ? 40 : g_str_equal (end, "GB") ? 30 : 20;
      *out_rule = g_strdup_printf ("core.min-free-space-size=%s", size);
      return n << shift;
    }
  g_autofree char *pct = g_key_file_get_string (config, "core", "min-free-space-percent", NULL);
  guint64 percent = pct ? MIN (g_ascii_strtoull (pct, NULL, 10), 99) : DEFAULT_MIN_FREE_PERCENT;
  *out_rule = g_strdup_printf ("core.min-free-space-percent=%" G_GUINT64_FORMAT, percent);
  return (guint64)st->f_blocks * st->f_frsize / 100 * percent;
}

TcArchiveStage *
tc_archive_stage_new (OstreeRepo *repo, GError **error)
{
  g_return_val_if_fail (ostree_repo_get_mode (repo) == OSTREE_REPO_MODE_ARCHIVE, NULL);
  g_autoptr (TcArchiveStage) s = g_new0 (TcArchiveStage, 1);
  s->dfd = s->objects_dfd = -1;
  g_mutex_init (&s->lock);
  s->idle = g_ptr_array_new_with_free_func ((GDestroyNotify)libdeflate_free_compressor);
  s->staged = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->repo_path = g_file_get_path (ostree_repo_get_path (repo));
  s->sync = !ostree_repo_get_disable_fsync (repo);

  GKeyFile *config = ostree_repo_get_config (repo);
  g_autofree char *level = g_key_file_get_string (config, "archive", "zlib-level", NULL);
  s->level = level ? CLAMP (g_ascii_strtoull (level, NULL, 10), 1, 9) : DEFAULT_LEVEL;

  s->path = g_build_filename (s->repo_path, "tmp", "treectl-stage-XXXXXX", NULL);
  if (!g_mkdtemp (s->path))
    {
      tc_throw_errno_prefix (error, "creating a staging directory in %s/tmp", s->repo_path);
      g_clear_pointer (&s->path, g_free);
      return NULL;
    }
  s->dfd = open (s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  s->objects_dfd
      = openat (ostree_repo_get_dfd (repo), "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dfd < 0 || s->objects_dfd < 0)
    return (tc_throw_errno_prefix (error, "opening %s", s->objects_dfd < 0 ? "objects" : s->path),
            NULL);
  /* One directory per checksum prefix, as in objects/: publishing links 00/ into
   * objects/00/ and so on, a prefix per thread at a time. */
  for (guint i = 0; i < 256; i++)
    {
      char dir[3];
      g_snprintf (dir, sizeof dir, "%02x", i);
      if (mkdirat (s->dfd, dir, 0755) < 0)
        return (tc_throw_errno_prefix (error, "mkdir %s/%s", s->path, dir), NULL);
    }

  struct statvfs st;
  if (fstatvfs (s->dfd, &st) < 0)
    return (tc_throw_errno_prefix (error, "statvfs %s", s->repo_path), NULL);
  s->reserve = reserve_bytes (config, &st, &s->free_rule);
  return g_steal_pointer (&s);
}

static struct libdeflate_compressor *
take_compressor (TcArchiveStage *s)
{
  g_mutex_lock (&s->lock);
  struct libdeflate_compressor *z
      = s->idle->len ? g_ptr_array_steal_index_fast (s->idle, s->idle->len - 1) : NULL;
  g_mutex_unlock (&s->lock);
  return z ? z : libdeflate_alloc_compressor (s->level);
}

static void
give_back_compressor (TcArchiveStage *s, struct libdeflate_compressor *z)
{
  g_mutex_lock (&s->lock);
  g_ptr_array_add (s->idle, z);
  g_mutex_unlock (&s->lock);
}

/* Fails, naming the rule, when writing @bytes would leave less free space than the reserve.
 * Asked afresh each time: the package cache on the same filesystem grows meanwhile. */
static gboolean
check_space (TcArchiveStage *s, guint64 bytes, GError **error)
{
  struct statvfs st;
  if (fstatvfs (s->dfd, &st) < 0)
    return tc_throw_errno_prefix (error, "statvfs %s", s->repo_path);
  guint64 avail = (guint64)st.f_bavail * st.f_frsize;
  if (avail < s->reserve || avail - s->reserve < bytes)
    return tc_throw (error,
                     "%s: not enough free space: writing %" G_GUINT64_FORMAT " more bytes "
                     "would go below the reserve (%s)",
                     s->repo_path, bytes, s->free_rule);
  return TRUE;
}

static gboolean
write_iov (int fd, struct iovec *iov, int n)
{
  while (n > 0)
    {
      ssize_t w = writev (fd, iov, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return FALSE;
      while (n > 0 && (size_t)w >= iov->iov_len)
        {
          w -= iov->iov_len;
          iov++;
          n--;
        }
      if (n > 0)
        {
          iov->iov_base = (char *)iov->iov_base + w;
          iov->iov_len -= w;
        }
    }
  return TRUE;
}

gboolean
tc_archive_stage_write (TcArchiveStage *s, const char *checksum, GFileInfo *info, GVariant *xattrs,
                        GBytes *data, GError **error)
{
  g_return_val_if_fail (g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR, FALSE);
  g_return_val_if_fail (strlen (checksum) == 64, FALSE);
  g_return_val_if_fail (s->remover == NULL, FALSE);
  gsize size = 0;
  const guint8 *in = g_bytes_get_data (data, &size);
  static const guint8 empty[1];
  if (!in)
    in = empty;

  struct libdeflate_compressor *z = take_compressor (s);
  if (!z)
    return tc_throw (error, "allocating a deflate compressor (level %d) failed", s->level);
  gsize bound = libdeflate_deflate_compress_bound (z, size);
  g_autofree guint8 *out = g_malloc (bound);
  gsize n = libdeflate_deflate_compress (z, in, size, out, bound);
  give_back_compressor (s, z);
  if (n == 0)
    return tc_throw (error, "compressing object %s failed", checksum);

  g_autoptr (GBytes) header = tc_archive_file_header (info, xattrs);
  gsize header_len = 0;
  const void *header_buf = g_bytes_get_data (header, &header_len);
  if (!check_space (s, header_len + n, error))
    return FALSE;

  char name[80];
  g_snprintf (name, sizeof name, "%.2s/%s.filez", checksum, checksum + 2);
  int fd = openat (s->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    return TRUE; /* staged by another thread */
  if (fd < 0)
    return tc_throw_errno_prefix (error, "creating %s/%s", s->path, name);
  struct iovec iov[2] = { { (void *)header_buf, header_len }, { out, n } };
  /* As libostree does: an archive repo is served over HTTP, whatever the umask. */
  gboolean ok = fchmod (fd, 0644) == 0 && write_iov (fd, iov, 2);
  int saved = errno;
  if (close (fd) < 0 && ok)
    {
      ok = FALSE;
      saved = errno;
    }
  if (!ok)
    {
      (void)unlinkat (s->dfd, name, 0);
      errno = saved;
      return tc_throw_errno_prefix (error, "writing %s/%s", s->path, name);
    }
  g_mutex_lock (&s->lock);
  g_hash_table_add (s->staged, g_strdup (checksum));
  g_mutex_unlock (&s->lock);
  return TRUE;
}

typedef struct
{
  TcArchiveStage *s;
  GPtrArray *buckets[256]; /* staged checksums by their first byte */
  gint next;               /* the next bucket to take */
  GCancellable *cancellable;
  GMutex lock;
  GError *error;
} Publish;

/* Links @checksum's object from the stage into objects/ (both "XX/YYYY.filez"). A link, not a
 * rename: renames across directories take a lock for the whole filesystem, and tens of
 * thousands of them ran one at a time; the stage's own names are removed later, beside the
 * rest of the compose. */
static gboolean
publish_one (TcArchiveStage *s, const char *checksum, GError **error)
{
  char rel[80];
  g_snprintf (rel, sizeof rel, "%.2s/%s.filez", checksum, checksum + 2);
  /* EEXIST: another writer stored the same object meanwhile; keep theirs. */
  if (linkat (s->dfd, rel, s->objects_dfd, rel, 0) == 0 || errno == EEXIST)
    return TRUE;
  return tc_throw_errno_prefix (error, "linking %s into %s/objects", rel, s->repo_path);
}

static gpointer
publish_thread (gpointer data)
{
  Publish *p = data;
  gint b;
  while ((b = g_atomic_int_add (&p->next, 1)) < 256)
    {
      GPtrArray *bucket = p->buckets[b];
      if (!bucket)
        continue;
      GError *local_error = NULL;
      char dir[3];
      g_snprintf (dir, sizeof dir, "%02x", b);
      if (mkdirat (p->s->objects_dfd, dir, OBJDIR_MODE) < 0 && errno != EEXIST)
        tc_throw_errno_prefix (&local_error, "mkdir %s/objects/%s", p->s->repo_path, dir);
      for (guint i = 0; !local_error && i < bucket->len; i++)
        if (!g_cancellable_set_error_if_cancelled (p->cancellable, &local_error))
          publish_one (p->s, bucket->pdata[i], &local_error);
      if (local_error)
        {
          g_mutex_lock (&p->lock);
          if (!p->error)
            p->error = local_error;
          else
            g_error_free (local_error);
          g_mutex_unlock (&p->lock);
          g_atomic_int_set (&p->next, 256);
        }
    }
  return NULL;
}

static gpointer
remove_stage_thread (gpointer data)
{
  TcArchiveStage *s = data;
  (void)tc_rm_rf (s->path, FALSE, NULL);
  return NULL;
}

gboolean
tc_archive_stage_publish (TcArchiveStage *s, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (s->remover == NULL, FALSE);
  if (s->sync && syncfs (s->dfd) < 0)
    return tc_throw_errno_prefix (error, "syncfs %s", s->repo_path);
  Publish p = { .s = s, .cancellable = cancellable };
  g_mutex_init (&p.lock);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, s->staged);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      guint b
          = g_ascii_xdigit_value (((char *)key)[0]) * 16 + g_ascii_xdigit_value (((char *)key)[1]);
      if (!p.buckets[b])
        p.buckets[b] = g_ptr_array_new ();
      g_ptr_array_add (p.buckets[b], key);
    }
  /* Tens of thousands of renames: one thread each way per core. */
  guint n = CLAMP (g_get_num_processors (), 1, 4);
  GThread *threads[4];
  for (guint i = 0; i < n; i++)
    threads[i] = g_thread_new ("treectl-publish", publish_thread, &p);
  for (guint i = 0; i < n; i++)
    g_thread_join (threads[i]);
  for (guint b = 0; b < 256; b++)
    g_clear_pointer (&p.buckets[b], g_ptr_array_unref);
  g_mutex_clear (&p.lock);
  if (p.error)
    return (g_propagate_error (error, p.error), FALSE);
  g_hash_table_remove_all (s->staged);
  /* The stage's names go while the caller commits. */
  s->remover = g_thread_new ("treectl-rm-stage", remove_stage_thread, s);
  return TRUE;
}

void
tc_archive_stage_free (TcArchiveStage *s)
{
  if (!s)
    return;
  if (s->remover)
    g_thread_join (s->remover);
  else if (s->path)
    (void)tc_rm_rf (s->path, FALSE, NULL);
  if (s->dfd >= 0)
    close (s->dfd);
  if (s->objects_dfd >= 0)
    close (s->objects_dfd);
  g_clear_pointer (&s->idle, g_ptr_array_unref);
  g_clear_pointer (&s->staged, g_hash_table_unref);
  g_mutex_clear (&s->lock);
  g_free (s->repo_path);
  g_free (s->path);
  g_free (s->free_rule);
  g_free (s);
}
