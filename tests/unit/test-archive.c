/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Unit tests for tc-archive.c, with libostree as the reference: the file header must be the
 * bytes libostree writes, and a published object must read back and fsck in a real archive
 * repository. */
#include "config.h"

#include <sys/stat.h>
#include <unistd.h>

#include "tc-archive.h"
#include "tc-util.h"

typedef struct
{
  char *dir;
  OstreeRepo *repo;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("test-archive-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  g_autofree char *path = g_build_filename (f->dir, "repo", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  f->repo = ostree_repo_new (file);
  g_autoptr (GError) error = NULL;
  g_assert_true (ostree_repo_create (f->repo, OSTREE_REPO_MODE_ARCHIVE, NULL, &error));
  g_assert_no_error (error);
  const char *config = data;
  if (config)
    {
      /* A key set in the repo's config file, then the repo opened afresh. */
      g_auto (GStrv) kv = g_strsplit (config, "=", 2);
      g_auto (GStrv) group_key = g_strsplit (kv[0], ".", 2);
      GKeyFile *kf = ostree_repo_copy_config (f->repo);
      g_key_file_set_string (kf, group_key[0], group_key[1], kv[1]);
      g_assert_true (ostree_repo_write_config (f->repo, kf, &error));
      g_key_file_unref (kf);
      g_clear_object (&f->repo);
      f->repo = ostree_repo_new (file);
      g_assert_true (ostree_repo_open (f->repo, NULL, &error));
      g_assert_no_error (error);
    }
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->repo);
  g_assert_true (tc_rm_rf (f->dir, FALSE, NULL));
  g_free (f->dir);
}

static GFileInfo *
file_info (guint32 mode, guint32 uid, guint64 size)
{
  GFileInfo *info = g_file_info_new ();
  g_file_info_set_file_type (info, G_FILE_TYPE_REGULAR);
  g_file_info_set_size (info, size);
  g_file_info_set_attribute_uint32 (info, "unix::uid", uid);
  g_file_info_set_attribute_uint32 (info, "unix::gid", uid);
  g_file_info_set_attribute_uint32 (info, "unix::mode", S_IFREG | mode);
  return info;
}

static GVariant *
some_xattrs (void)
{
  GVariantBuilder b;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ayay)"));
  g_variant_builder_add (&b, "(@ay@ay)", g_variant_new_bytestring ("security.capability"),
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "\1\2\3", 3, 1));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

/* The checksum libostree gives the file. */
static char *
checksum_of (GFileInfo *info, GVariant *xattrs, GBytes *data)
{
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (data);
  g_autofree guchar *csum = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (ostree_checksum_file_from_input (info, xattrs, in, OSTREE_OBJECT_TYPE_FILE, &csum,
                                                  NULL, &error));
  g_assert_no_error (error);
  return ostree_checksum_from_bytes (csum);
}

/* The header is exactly the prefix of libostree's own archive object stream. */
static void
test_header_matches_libostree (void)
{
  g_autoptr (GVariant) xattrs = some_xattrs ();
  GVariant *cases[] = { NULL, xattrs };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GFileInfo) info = file_info (04755, 1000 + i, 5);
      g_autoptr (GInputStream) in = g_memory_input_stream_new_from_data ("hello", 5, NULL);
      g_autoptr (GInputStream) z2 = NULL;
      g_autoptr (GError) error = NULL;
      g_assert_true (ostree_raw_file_to_archive_z2_stream (in, info, cases[i], &z2, NULL, &error));
      g_assert_no_error (error);
      g_autoptr (GBytes) ours = tc_archive_file_header (info, cases[i]);
      gsize len = g_bytes_get_size (ours);
      g_autofree guint8 *theirs = g_malloc (len);
      gsize n = 0;
      g_assert_true (g_input_stream_read_all (z2, theirs, len, &n, NULL, &error));
      g_assert_cmpuint (n, ==, len);
      g_assert_cmpmem (g_bytes_get_data (ours, NULL), len, theirs, len);
    }
}

/* Writes @data as an object; returns its checksum. */
static char *
stage_file (TcArchiveStage *stage, GFileInfo *info, GVariant *xattrs, GBytes *data)
{
  char *checksum = checksum_of (info, xattrs, data);
  g_autoptr (GError) error = NULL;
  g_assert_true (tc_archive_stage_write (stage, checksum, info, xattrs, data, &error));
  g_assert_no_error (error);
  return checksum;
}

static gboolean
has_object (OstreeRepo *repo, const char *checksum)
{
  gboolean have = FALSE;
  g_assert_true (
      ostree_repo_has_object (repo, OSTREE_OBJECT_TYPE_FILE, checksum, &have, NULL, NULL));
  return have;
}

/* Whether the stage directory in @tmp holds @checksum (as objects/ would: XX/YYYY.filez). */
static gboolean
is_staged (const char *tmp, const char *checksum)
{
  g_autoptr (GDir) dir = g_dir_open (tmp, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)))
    if (g_str_has_prefix (name, "treectl-stage-"))
      {
        g_autofree char *path
            = g_strdup_printf ("%s/%s/%.2s/%s.filez", tmp, name, checksum, checksum + 2);
        return g_file_test (path, G_FILE_TEST_IS_REGULAR);
      }
  return FALSE;
}

static guint
count_entries (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;
  while (dir && g_dir_read_name (dir))
    n++;
  return n;
}

/* Published objects read back as written, pass libostree's fsck, and the stage is gone. */
static void
test_publish_reads_back (Fixture *f, gconstpointer data)
{
  g_autofree char *tmp = g_build_filename (f->dir, "repo", "tmp", NULL);
  guint tmp_before = count_entries (tmp);
  g_autoptr (GError) error = NULL;
  g_autoptr (TcArchiveStage) stage = tc_archive_stage_new (f->repo, &error);
  g_assert_no_error (error);

  GString *text = g_string_new ("");
  for (int i = 0; i < 20000; i++)
    g_string_append_printf (text, "line %d of a compressible file\n", i % 97);
  g_autoptr (GBytes) big = g_string_free_to_bytes (text);
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr (GVariant) xattrs = some_xattrs ();
  struct
  {
    GBytes *data;
    guint32 mode;
    GVariant *xattrs;
  } cases[] = { { big, 0644, NULL }, { empty, 0600, NULL }, { big, 04755, xattrs } };
  char *checksums[G_N_ELEMENTS (cases)];
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GFileInfo) info = file_info (cases[i].mode, i, g_bytes_get_size (cases[i].data));
      checksums[i] = stage_file (stage, info, cases[i].xattrs, cases[i].data);
      /* Twice: harmless. */
      g_free (stage_file (stage, info, cases[i].xattrs, cases[i].data));
      g_assert_true (is_staged (tmp, checksums[i]));
      g_assert_false (has_object (f->repo, checksums[i]));
    }
  g_assert_true (tc_archive_stage_publish (stage, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_true (has_object (f->repo, checksums[i]));
      g_autoptr (GInputStream) in = NULL;
      g_autoptr (GFileInfo) info = NULL;
      g_autoptr (GVariant) xattrs_read = NULL;
      g_assert_true (
          ostree_repo_load_file (f->repo, checksums[i], &in, &info, &xattrs_read, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (g_file_info_get_attribute_uint32 (info, "unix::mode"), ==,
                        S_IFREG | cases[i].mode);
      g_assert_cmpuint (g_file_info_get_attribute_uint32 (info, "unix::uid"), ==, i);
      g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
      g_assert_cmpint (
          g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error), ==,
          g_bytes_get_size (cases[i].data));
      g_autoptr (GBytes) read
          = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
      g_assert_true (g_bytes_equal (read, cases[i].data));
      g_assert_cmpuint (g_variant_n_children (xattrs_read), ==,
                        cases[i].xattrs ? g_variant_n_children (cases[i].xattrs) : 0);
      g_assert_true (
          ostree_repo_fsck_object (f->repo, OSTREE_OBJECT_TYPE_FILE, checksums[i], NULL, &error));
      g_assert_no_error (error);
      g_free (checksums[i]);
    }
  /* The compressed file is smaller than the text: it really is deflated. */
  g_autofree char *path = NULL;
  {
    g_autoptr (GFileInfo) info = file_info (0644, 0, g_bytes_get_size (big));
    g_autofree char *checksum = checksum_of (info, NULL, big);
    path = g_strdup_printf ("%s/repo/objects/%.2s/%s.filez", f->dir, checksum, checksum + 2);
  }
  struct stat st;
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, <, g_bytes_get_size (big) / 10);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0644);

  g_clear_pointer (&stage, tc_archive_stage_free);
  g_assert_cmpuint (count_entries (tmp), ==, tmp_before);
  /* Only objects/ holds the file now. */
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_nlink, ==, 1);
}

/* A stage dropped without publishing leaves objects/ as it was. */
static void
test_drop_leaves_repo (Fixture *f, gconstpointer data)
{
  g_autofree char *objects = g_build_filename (f->dir, "repo", "objects", NULL);
  g_autofree char *tmp = g_build_filename (f->dir, "repo", "tmp", NULL);
  guint objects_before = count_entries (objects), tmp_before = count_entries (tmp);
  g_autoptr (GError) error = NULL;
  TcArchiveStage *stage = tc_archive_stage_new (f->repo, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_entries (tmp), ==, tmp_before + 1);
  g_autoptr (GBytes) content = g_bytes_new_static ("content", 7);
  g_autoptr (GFileInfo) info = file_info (0644, 0, 7);
  g_autofree char *checksum = stage_file (stage, info, NULL, content);
  tc_archive_stage_free (stage);
  g_assert_false (has_object (f->repo, checksum));
  g_assert_cmpuint (count_entries (objects), ==, objects_before);
  g_assert_cmpuint (count_entries (tmp), ==, tmp_before);
}

/* archive.zlib-level is honoured: level 1 compresses this text less well than level 9. */
static gsize
staged_size (OstreeRepo *repo, const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TcArchiveStage) stage = tc_archive_stage_new (repo, &error);
  g_assert_no_error (error);
  GString *text = g_string_new ("");
  for (int i = 0; i < 50000; i++)
    g_string_append_printf (text, "%d %d\n", i, (i * 7919) % 1000);
  g_autoptr (GBytes) data = g_string_free_to_bytes (text);
  g_autoptr (GFileInfo) info = file_info (0644, 0, g_bytes_get_size (data));
  g_autofree char *checksum = stage_file (stage, info, NULL, data);
  g_assert_true (tc_archive_stage_publish (stage, NULL, &error));
  g_autofree char *path
      = g_strdup_printf ("%s/repo/objects/%.2s/%s.filez", dir, checksum, checksum + 2);
  struct stat st;
  g_assert_cmpint (stat (path, &st), ==, 0);
  return st.st_size;
}

static void
test_level (Fixture *f, gconstpointer data)
{
  Fixture fast = { 0 };
  fixture_setup (&fast, "archive.zlib-level=1");
  gsize at_level_1 = staged_size (fast.repo, fast.dir);
  fixture_teardown (&fast, NULL);
  Fixture best = { 0 };
  fixture_setup (&best, "archive.zlib-level=9");
  gsize at_level_9 = staged_size (best.repo, best.dir);
  fixture_teardown (&best, NULL);
  g_assert_cmpuint (at_level_9, <, at_level_1);
}

/* Bad input: a free-space reserve that cannot be met refuses the write, naming the rule, and
 * stages nothing. */
static void
test_reserve (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TcArchiveStage) stage = tc_archive_stage_new (f->repo, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) bytes = g_bytes_new_static ("content", 7);
  g_autoptr (GFileInfo) info = file_info (0644, 0, 7);
  g_autofree char *checksum = checksum_of (info, NULL, bytes);
  g_assert_false (tc_archive_stage_write (stage, checksum, info, NULL, bytes, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "not enough free space"));
  g_assert_nonnull (strstr (error->message, "core.min-free-space-size=900000TB"));
  g_autofree char *tmp = g_build_filename (f->dir, "repo", "tmp", NULL);
  g_assert_false (is_staged (tmp, checksum));
  g_clear_error (&error);
  g_assert_true (tc_archive_stage_publish (stage, NULL, &error));
  g_assert_false (has_object (f->repo, checksum));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/archive/header-matches-libostree", test_header_matches_libostree);
  g_test_add ("/archive/publish-reads-back", Fixture, NULL, fixture_setup, test_publish_reads_back,
              fixture_teardown);
  g_test_add ("/archive/drop-leaves-repo", Fixture, NULL, fixture_setup, test_drop_leaves_repo,
              fixture_teardown);
  g_test_add ("/archive/zlib-level", Fixture, NULL, NULL, test_level, NULL);
  g_test_add ("/archive/free-space-reserve", Fixture, "core.min-free-space-size=900000TB",
              fixture_setup, test_reserve, fixture_teardown);
  return g_test_run ();
}
