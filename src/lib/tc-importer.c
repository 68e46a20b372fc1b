/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Importing one RPM into an ostree repository: verify it, plan every entry of its file list,
 * then stream the payload into content objects and commit the tree. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tc-importer.h"
#include "tc-rpm-util.h"
#include "tc-util.h"

#include <rpm/rpmarchive.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmstring.h>
#include <rpm/rpmtd.h>

#define TC_IMPORTER_UNPACK_VERSION 1
#define TC_DEFAULT_DIR_MODE (S_IFDIR | 0755)

/* ---- refs ---- */

/* rpm-ostree's ref escaping, so refs stay readable: [A-Za-z0-9.-] as is, "_" doubled,
 * every other byte "_XX". */
static void
append_escaped_ref_component (GString *out, const char *s)
{
  for (const guchar *p = (const guchar *)s; *p; p++)
    {
      if (g_ascii_isalnum (*p) || *p == '.' || *p == '-')
        g_string_append_c (out, *p);
      else if (*p == '_')
        g_string_append (out, "__");
      else
        g_string_append_printf (out, "_%02X", *p);
    }
}

char *
tc_importer_ref_for_nevra (const char *name, const char *epoch, const char *version,
                           const char *release, const char *arch)
{
  GString *ref = g_string_new ("treectl/pkg/");
  append_escaped_ref_component (ref, name);
  g_string_append_c (ref, '/');
  g_autofree char *evra = NULL;
  if (epoch && *epoch && !g_str_equal (epoch, "0"))
    evra = g_strdup_printf ("%s:%s-%s.%s", epoch, version, release, arch);
  else
    evra = g_strdup_printf ("%s-%s.%s", version, release, arch);
  append_escaped_ref_component (ref, evra);
  return g_string_free (ref, FALSE);
}

/* ---- path translation ---- */

/* systemd-tmpfiles reads C escapes, so anything that would split or end a field is \xNN. */
static void
append_tmpfiles_escaped (GString *out, const char *s)
{
  for (const guchar *p = (const guchar *)s; *p; p++)
    {
      if (*p <= 0x20 || *p == 0x7f || *p == '\\' || *p == '"' || *p == '\'')
        g_string_append_printf (out, "\\x%02x", *p);
      else
        g_string_append_c (out, *p);
    }
}

static char *
tmpfiles_line (const char *abspath, const char *user, const char *group, guint mode,
               const char *symlink_target)
{
  GString *line = g_string_new (symlink_target ? "L " : "d ");
  append_tmpfiles_escaped (line, abspath);
  if (symlink_target)
    {
      g_string_append (line, " - - - - ");
      append_tmpfiles_escaped (line, symlink_target);
    }
  else
    {
      g_string_append_printf (line, " %04o ", mode & 07777);
      append_tmpfiles_escaped (line, user && *user ? user : "root");
      g_string_append_c (line, ' ');
      append_tmpfiles_escaped (line, group && *group ? group : "root");
      g_string_append (line, " - -");
    }
  return g_string_free (line, FALSE);
}

/* Top-level directories whose content is stored in the tree, and where it goes. */
static const struct
{
  const char *top;
  const char *dest;
  /* The final tree has bin, sbin, lib and lib64 as symlinks into /usr: a package's own such
   * symlink is left out, what it ships below them goes to /usr. */
  gboolean symlink_in_final_tree;
} tree_tops[] = {
  { "usr", "usr", FALSE },
  { "etc", "usr/etc", FALSE },
  { "boot", "usr/lib/ostree-boot", FALSE },
  { "opt", "usr/lib/opt", FALSE },
  { "bin", "usr/bin", TRUE },
  { "sbin", "usr/sbin", TRUE },
  { "lib", "usr/lib", TRUE },
  { "lib64", "usr/lib64", TRUE },
};

char *
tc_importer_translate_path (const char *path, gboolean is_dir, const char *user, const char *group,
                            guint mode, const char *symlink_target, char **out_tmpfiles_line,
                            GError **error)
{
  *out_tmpfiles_line = NULL;
  if (path[0] == '/')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "absolute path %s", path);
      return NULL;
    }

  /* Normalise: drop empty and "." components; ".." is refused, never resolved. */
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  g_autoptr (GPtrArray) comps = g_ptr_array_new ();
  for (char **p = parts; *p; p++)
    {
      if (**p == '\0' || g_str_equal (*p, "."))
        continue;
      if (g_str_equal (*p, ".."))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "path /%s contains \"..\"",
                       path);
          return NULL;
        }
      g_ptr_array_add (comps, *p);
    }
  if (comps->len == 0)
    return g_strdup ("");
  g_ptr_array_add (comps, NULL);
  const char *top = comps->pdata[0];
  g_autofree char *rest = comps->len > 2 ? g_strjoinv ("/", (char **)comps->pdata + 1) : NULL;
  guint n_comps = comps->len - 1;

  /* /var/run is /run in the final tree. */
  if (g_str_equal (top, "var") && n_comps >= 2 && g_str_equal (comps->pdata[1], "run"))
    {
      top = "run";
      g_autofree char *joined = n_comps > 2 ? g_strjoinv ("/", (char **)comps->pdata + 2) : NULL;
      g_free (rest);
      rest = g_steal_pointer (&joined);
      n_comps--;
    }

  if (g_str_equal (top, "var") || g_str_equal (top, "run"))
    {
      /* /var and /run are the final tree's own; what is under them is made at boot. */
      if (rest == NULL || (!is_dir && symlink_target == NULL))
        return NULL;
      g_autofree char *abspath = g_strconcat ("/", top, "/", rest, NULL);
      *out_tmpfiles_line = tmpfiles_line (abspath, user, group, mode, symlink_target);
      return NULL;
    }

  for (guint i = 0; i < G_N_ELEMENTS (tree_tops); i++)
    {
      if (!g_str_equal (top, tree_tops[i].top))
        continue;
      if (rest == NULL && symlink_target != NULL && tree_tops[i].symlink_in_final_tree)
        return NULL;
      if (g_str_equal (top, "opt") && rest != NULL && n_comps == 2)
        {
          g_autofree char *link = g_strconcat ("/var/opt/", rest, NULL);
          g_autofree char *target = g_strconcat ("/usr/lib/opt/", rest, NULL);
          *out_tmpfiles_line = tmpfiles_line (link, NULL, NULL, 0, target);
        }
      return rest ? g_strconcat (tree_tops[i].dest, "/", rest, NULL) : g_strdup (tree_tops[i].dest);
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "Unsupported path /%s", path);
  return NULL;
}

/* ---- a GInputStream over the current file of an rpm payload ---- */

typedef struct
{
  GInputStream parent;
  rpmfi fi;
  guint64 remaining;
  GChecksum *checksum; /* of the content read, when a file digest must be checked */
} TcPayloadStream;

typedef struct
{
  GInputStreamClass parent_class;
} TcPayloadStreamClass;

G_DEFINE_TYPE (TcPayloadStream, tc_payload_stream, G_TYPE_INPUT_STREAM)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcPayloadStream, g_object_unref)

static gssize
tc_payload_stream_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                        GError **error)
{
  TcPayloadStream *self = (TcPayloadStream *)stream;
  if (self->remaining == 0 || count == 0)
    return 0;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  gsize want = MIN (count, self->remaining);
  ssize_t n = rpmfiArchiveRead (self->fi, buffer, want);
  if (n <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                   "payload ends %" G_GUINT64_FORMAT " bytes early (truncated or corrupt)",
                   self->remaining);
      return -1;
    }
  self->remaining -= n;
  if (self->checksum)
    g_checksum_update (self->checksum, buffer, n);
  return n;
}

static void
tc_payload_stream_class_init (TcPayloadStreamClass *klass)
{
  G_INPUT_STREAM_CLASS (klass)->read_fn = tc_payload_stream_read;
}

static void
tc_payload_stream_init (TcPayloadStream *self)
{
}

/* ---- digests ---- */

static gboolean
checksum_type_for_pgp_algo (int algo, GChecksumType *out_type)
{
  switch (algo)
    {
    case PGPHASHALGO_MD5:
      *out_type = G_CHECKSUM_MD5;
      return TRUE;
    case PGPHASHALGO_SHA1:
      *out_type = G_CHECKSUM_SHA1;
      return TRUE;
    case PGPHASHALGO_SHA256:
      *out_type = G_CHECKSUM_SHA256;
      return TRUE;
    case PGPHASHALGO_SHA384:
      *out_type = G_CHECKSUM_SHA384;
      return TRUE;
    case PGPHASHALGO_SHA512:
      *out_type = G_CHECKSUM_SHA512;
      return TRUE;
    default:
      return FALSE;
    }
}

/* ---- the import ---- */

typedef enum
{
  ENTRY_SKIP = 0,
  ENTRY_DIR,
  ENTRY_REGFILE,
  ENTRY_SYMLINK,
} EntryKind;

typedef struct
{
  EntryKind kind;
  char *tree_path; /* relative path in the commit */
  guint32 mode;    /* as stored (type bits included) */
  GVariant *xattrs;
  char *symlink_target;
  char *checksum; /* content object, or dirmeta for directories */
} Entry;

typedef struct
{
  OstreeRepo *repo;
  const char *rpm_path;
  TcImportFlags flags;
  const char *keyring_dir;
  const char *expected_sha256;

  int fd;
  guint64 file_size;
  guint64 header_start;
  guint64 payload_start;
  Header h;
  char *nevra;
  char *sha256;
  gboolean have_payload_digest;

  rpmfiles files;
  Entry *entries;
  guint n_entries;
  GString *tmpfiles;
  GVariantBuilder nonroot;
  gboolean have_nonroot;
  GVariantBuilder nonroot_setid;
  gboolean have_nonroot_setid;
  GPtrArray *dropped_var_files;
  GPtrArray *skipped_paths;
  GHashTable *dirmeta_cache; /* mode (every directory is 0:0) -> dirmeta checksum */
  char *tmpfiles_conf_path;
  TcImportMirrorFunc mirror;
  gpointer mirror_data;
} Importer;

static void
importer_clear (Importer *self)
{
  if (self->fd >= 0)
    close (self->fd);
  g_clear_pointer (&self->h, headerFree);
  g_clear_pointer (&self->files, rpmfilesFree);
  g_free (self->nevra);
  g_free (self->sha256);
  for (guint i = 0; i < self->n_entries; i++)
    {
      Entry *e = &self->entries[i];
      g_free (e->tree_path);
      g_free (e->symlink_target);
      g_free (e->checksum);
      g_clear_pointer (&e->xattrs, g_variant_unref);
    }
  g_free (self->entries);
  if (self->tmpfiles)
    g_string_free (self->tmpfiles, TRUE);
  g_variant_builder_clear (&self->nonroot);
  g_variant_builder_clear (&self->nonroot_setid);
  g_clear_pointer (&self->dropped_var_files, g_ptr_array_unref);
  g_clear_pointer (&self->skipped_paths, g_ptr_array_unref);
  g_clear_pointer (&self->dirmeta_cache, g_hash_table_unref);
  g_free (self->tmpfiles_conf_path);
}

static gboolean
pread_all (int fd, void *buf, gsize len, guint64 offset, GError **error)
{
  guint8 *p = buf;
  while (len > 0)
    {
      ssize_t n = pread (fd, p, len, offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return tc_throw_errno_prefix (error, "reading");
      if (n == 0)
        return tc_throw (error, "unexpected end of file at byte %" G_GUINT64_FORMAT, offset);
      p += n;
      len -= n;
      offset += n;
    }
  return TRUE;
}

/* Size of a header structure (signature or main) starting at @offset, as stored. */
static gboolean
header_size_at (int fd, guint64 offset, guint64 *out_size, GError **error)
{
  static const guint8 magic[] = { 0x8e, 0xad, 0xe8, 0x01 };
  guint8 intro[16];
  if (!pread_all (fd, intro, sizeof intro, offset, error))
    return FALSE;
  if (memcmp (intro, magic, sizeof magic) != 0)
    return tc_throw (error, "no header at byte %" G_GUINT64_FORMAT, offset);
  guint32 n_index, data_len;
  memcpy (&n_index, intro + 8, sizeof n_index);
  memcpy (&data_len, intro + 12, sizeof data_len);
  *out_size = 16 + (guint64)GUINT32_FROM_BE (n_index) * 16 + GUINT32_FROM_BE (data_len);
  return TRUE;
}

/* librpm's messages so far, without the "FILE: " it starts each with (errors name it). */
static char *
rpm_messages (Importer *self, TcRpmLogCapture *log)
{
  const char *messages = tc_rpm_log_capture_get (log);
  if (messages == NULL)
    return NULL;
  g_autofree char *prefix = g_strconcat (self->rpm_path, ": ", NULL);
  g_auto (GStrv) parts = g_strsplit (messages, prefix, -1);
  return g_strjoinv ("", parts);
}

/* Opens the file and reads its header through librpm, which checks the header digests
 * and, with keys, its signature. */
static gboolean
read_header (Importer *self, TcRpmLogCapture *log, GError **error)
{
  self->fd = open (self->rpm_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (self->fd < 0)
    return tc_throw_errno_prefix (error, "opening");
  struct stat st;
  if (fstat (self->fd, &st) < 0)
    return tc_throw_errno_prefix (error, "stat");
  if (!S_ISREG (st.st_mode))
    return tc_throw (error, "not a regular file");
  if (st.st_size == 0)
    return tc_throw (error, "empty file (0 bytes), not an RPM package");
  self->file_size = st.st_size;

  g_auto (rpmKeyring) keyring = NULL;
  if (self->keyring_dir)
    {
      keyring = tc_rpm_keyring_new_from_dir (self->keyring_dir, error);
      if (keyring == NULL)
        return FALSE;
    }
  else
    keyring = rpmKeyringNew ();

  g_auto (rpmts) ts = rpmtsCreate ();
  /* An explicit keyring also keeps librpm from loading keys out of an rpmdb. */
  rpmtsSetKeyring (ts, keyring);
  rpmtsSetVSFlags (ts, RPMVSF_DEFAULT);
  rpmtsSetVfyLevel (ts, RPMSIG_DIGEST_TYPE);

  g_auto (FD_t) rfd = fdDup (self->fd);
  if (rfd == NULL || Ferror (rfd))
    return tc_throw (error, "opening through librpm failed");

  g_auto (Header) h = NULL;
  rpmRC rc = rpmReadPackageFile (ts, rfd, self->rpm_path, &h);
  g_autofree char *why = rpm_messages (self, log);
  switch (rc)
    {
    case RPMRC_OK:
      break;
    case RPMRC_NOTFOUND:
      return tc_throw (error, "not an RPM package%s%s", why ? ": " : "", why ? why : "");
    case RPMRC_NOKEY:
    case RPMRC_NOTTRUSTED:
      if (self->flags & TC_IMPORT_FLAGS_REQUIRE_SIGNATURE)
        return tc_throw (error, "signed with a key that is not in the keyring %s: %s",
                         self->keyring_dir, why ? why : "unknown key");
      break;
    default:
      return tc_throw (error, "header digest or signature check failed: %s",
                       why ? why : "bad package");
    }
  if (h == NULL)
    return tc_throw (error, "not an RPM package");

  if ((self->flags & TC_IMPORT_FLAGS_REQUIRE_SIGNATURE) && rc == RPMRC_OK
      && !headerIsEntry (h, RPMTAG_RSAHEADER) && !headerIsEntry (h, RPMTAG_DSAHEADER))
    return tc_throw (error, "package is not signed, and a signature is required");

  if (headerIsSource (h))
    return tc_throw (error, "is a source package");
  const char *tags[] = { headerGetString (h, RPMTAG_NAME), headerGetString (h, RPMTAG_VERSION),
                         headerGetString (h, RPMTAG_RELEASE), headerGetString (h, RPMTAG_ARCH) };
  for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
    if (tags[i] == NULL || *tags[i] == '\0' || !g_utf8_validate (tags[i], -1, NULL)
        || strchr (tags[i], '/') != NULL)
      return tc_throw (error, "header has a missing or invalid name, version, release or arch");
  const char *format = headerGetString (h, RPMTAG_PAYLOADFORMAT);
  if (format && !g_str_equal (format, "cpio"))
    return tc_throw (error, "unsupported payload format \"%s\"", format);

  self->nevra = tc_rpm_header_nevra (h);
  self->h = g_steal_pointer (&h);
  /* Warnings accepted here (an unknown key when none is required) are not payload errors. */
  tc_rpm_log_capture_reset (log);
  return TRUE;
}

static void
update_from (DIGEST_CTX ctx, const guint8 *buf, gsize n, guint64 buf_offset, guint64 start)
{
  if (ctx == NULL || buf_offset + n <= start)
    return;
  gsize skip = start > buf_offset ? start - buf_offset : 0;
  rpmDigestUpdate (ctx, buf + skip, n - skip);
}

/* The lowercase hex digest of @ctx, which is consumed. */
static char *
digest_finish (DIGEST_CTX ctx)
{
  char *hex = NULL;
  size_t len = 0;
  rpmDigestFinal (ctx, (void **)&hex, &len, 1);
  g_autofree char *copy = g_strdup (hex);
  free (hex);
  return g_steal_pointer (&copy);
}

/* Reads the whole file once: its sha256 for the metadata, and the payload digest from the
 * (verified) header, or for old packages without one the MD5 over header and payload. All
 * before anything is written, so a damaged payload never reaches the repository. */
static gboolean
verify_payload (Importer *self, GCancellable *cancellable, GError **error)
{
  guint64 sig_size = 0, header_size = 0;
  if (!header_size_at (self->fd, 96, &sig_size, error))
    return FALSE;
  self->header_start = 96 + sig_size + (8 - sig_size % 8) % 8;
  if (!header_size_at (self->fd, self->header_start, &header_size, error))
    return FALSE;
  self->payload_start = self->header_start + header_size;

  guint64 expected_size = 0;
  if (headerIsEntry (self->h, RPMTAG_LONGSIGSIZE))
    expected_size = headerGetNumber (self->h, RPMTAG_LONGSIGSIZE);
  else if (headerIsEntry (self->h, RPMTAG_SIGSIZE))
    expected_size = headerGetNumber (self->h, RPMTAG_SIGSIZE);
  if (self->payload_start >= self->file_size)
    return tc_throw (error, "truncated: the file ends before the payload");
  if (expected_size && self->file_size - self->header_start != expected_size)
    return tc_throw (
        error, "corrupt: file has %" G_GUINT64_FORMAT " bytes, its header says %" G_GUINT64_FORMAT,
        self->file_size, self->header_start + expected_size);

  g_autofree char *expected = NULL;
  int algo = PGPHASHALGO_SHA256;
  guint64 digest_start = self->payload_start;
  struct rpmtd_s td;
  if (headerGet (self->h, RPMTAG_PAYLOADDIGEST, &td, HEADERGET_MINMEM))
    {
      expected = g_ascii_strdown (rpmtdGetString (&td) ?: "", -1);
      rpmtdFreeData (&td);
      algo = headerGetNumber (self->h, RPMTAG_PAYLOADDIGESTALGO);
      GChecksumType unused;
      if (!checksum_type_for_pgp_algo (algo, &unused))
        return tc_throw (error, "unsupported payload digest algorithm %d", algo);
      self->have_payload_digest = TRUE;
    }
  else if (headerGet (self->h, RPMTAG_SIGMD5, &td, HEADERGET_MINMEM))
    {
      if (td.type == RPM_BIN_TYPE && td.count == 16)
        expected = rpmhex (td.data, td.count);
      rpmtdFreeData (&td);
      algo = PGPHASHALGO_MD5;
      digest_start = self->header_start;
    }
  if (expected == NULL || *expected == '\0')
    return tc_throw (error, "package has no payload digest to verify");

  /* When the whole file must match a checksum from repository metadata and no signature is
   * required, that checksum already ties the payload to what the repository published: one
   * hash pass instead of two. */
  gboolean check_payload = self->expected_sha256 == NULL
                           || (self->flags & TC_IMPORT_FLAGS_REQUIRE_SIGNATURE);
  /* librpm's digests (libgcrypt, which uses the CPU's SHA extensions) rather than GLib's
   * portable ones: hashing every package file was a fifth of a compose's CPU time. */
  DIGEST_CTX whole = rpmDigestInit (PGPHASHALGO_SHA256, RPMDIGEST_NONE);
  DIGEST_CTX payload = check_payload ? rpmDigestInit (algo, RPMDIGEST_NONE) : NULL;
  g_autofree guint8 *buf = g_malloc (256 * 1024);
  gboolean read_ok = TRUE;
  for (guint64 off = 0; read_ok && off < self->file_size;)
    {
      gsize n = MIN (256 * 1024, self->file_size - off);
      read_ok = !g_cancellable_set_error_if_cancelled (cancellable, error)
                && pread_all (self->fd, buf, n, off, error);
      if (!read_ok)
        break;
      rpmDigestUpdate (whole, buf, n);
      update_from (payload, buf, n, off, digest_start);
      off += n;
    }
  self->sha256 = digest_finish (whole);
  g_autofree char *actual = payload ? digest_finish (payload) : NULL;
  if (!read_ok)
    return FALSE;
  if (self->expected_sha256 && g_ascii_strcasecmp (self->sha256, self->expected_sha256) != 0)
    return tc_throw (error, "checksum mismatch: the file has sha256 %s, the repository metadata "
                            "says %s",
                     self->sha256, self->expected_sha256);
  if (!check_payload)
    return TRUE;
  if (!g_str_equal (actual, expected))
    return tc_throw (error, "payload digest mismatch (expected %s, got %s): corrupt or tampered",
                     expected, actual);
  return TRUE;
}

/* security.capability (VFS revision 2) from rpm's text form, parsed by libcap. */
static gboolean
fcaps_to_xattrs (const char *text, GVariant **out_xattrs, GError **error)
{
  cap_t caps = cap_from_text (text);
  if (caps == NULL)
    return tc_throw (error, "invalid file capabilities \"%s\"", text);
  guint64 permitted = 0, inheritable = 0;
  gboolean effective = FALSE;
  for (int cap = 0; cap < 64; cap++)
    {
      cap_flag_value_t v;
      if (cap_get_flag (caps, cap, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
        permitted |= G_GUINT64_CONSTANT (1) << cap;
      if (cap_get_flag (caps, cap, CAP_INHERITABLE, &v) == 0 && v == CAP_SET)
        inheritable |= G_GUINT64_CONSTANT (1) << cap;
      if (cap_get_flag (caps, cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET)
        effective = TRUE;
    }
  cap_free (caps);
  *out_xattrs = NULL;
  if (permitted == 0 && inheritable == 0)
    return TRUE;
  guint32 data[5] = {
    GUINT32_TO_LE (VFS_CAP_REVISION_2 | (effective ? VFS_CAP_FLAGS_EFFECTIVE : 0)),
    GUINT32_TO_LE ((guint32)permitted),
    GUINT32_TO_LE ((guint32)inheritable),
    GUINT32_TO_LE ((guint32)(permitted >> 32)),
    GUINT32_TO_LE ((guint32)(inheritable >> 32)),
  };
  GVariantBuilder b;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ayay)"));
  g_variant_builder_add (&b, "(@ay@ay)", g_variant_new_bytestring ("security.capability"),
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, sizeof data, 1));
  *out_xattrs = g_variant_ref_sink (g_variant_builder_end (&b));
  return TRUE;
}

typedef struct
{
  gboolean is_dir;
  gboolean is_symlink;
  char *rpm_path; /* for messages */
} PlannedPath;

static PlannedPath *
planned_path_new (gboolean is_dir, gboolean is_symlink, const char *rpm_path)
{
  PlannedPath *pp = g_new0 (PlannedPath, 1);
  pp->is_dir = is_dir;
  pp->is_symlink = is_symlink;
  pp->rpm_path = g_strdup (rpm_path);
  return pp;
}

static void
planned_path_free (PlannedPath *pp)
{
  g_free (pp->rpm_path);
  g_free (pp);
}

/* Where each entry of the file list goes, checked as a whole before anything is written. */
static gboolean
plan_entries (Importer *self, GError **error)
{
  self->files = rpmfilesNew (NULL, self->h, 0, RPMFI_FLAGS_QUERY);
  if (self->files == NULL)
    return tc_throw (error, "reading the file list failed");
  self->n_entries = rpmfilesFC (self->files);
  self->entries = g_new0 (Entry, self->n_entries);
  self->tmpfiles = g_string_new ("");
  self->dropped_var_files = g_ptr_array_new_with_free_func (g_free);
  self->skipped_paths = g_ptr_array_new_with_free_func (g_free);
  g_variant_builder_init (&self->nonroot, G_VARIANT_TYPE ("a(sss)"));
  g_variant_builder_init (&self->nonroot_setid, G_VARIANT_TYPE ("a(su)"));
  /* tree path, or tmpfiles path for /var and /run entries -> PlannedPath */
  g_autoptr (GHashTable) planned
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)planned_path_free);

  g_auto (rpmfi) fi = rpmfilesIter (self->files, RPMFI_ITER_FWD);
  int fx;
  while ((fx = rpmfiNext (fi)) >= 0)
    {
      Entry *e = &self->entries[fx];
      /* rpmfiFN()'s buffer is reused by the next call. */
      g_autofree char *path = g_strdup (rpmfiFN (fi));
      rpmfileAttrs fflags = rpmfiFFlags (fi);
      if (*path == '\0' || (fflags & RPMFILE_GHOST))
        continue;
      if ((self->flags & TC_IMPORT_FLAGS_NODOCS) && (fflags & RPMFILE_DOC))
        continue;
      if (!g_utf8_validate (path, -1, NULL))
        return tc_throw (error, "path %s is not valid UTF-8", path);
      const char *relpath = path[0] == '/' ? path + 1 : path;
      guint32 mode = rpmfiFMode (fi);
      const char *user = rpmfiFUser (fi) ?: "root";
      const char *group = rpmfiFGroup (fi) ?: "root";
      if (!g_utf8_validate (user, -1, NULL) || !g_utf8_validate (group, -1, NULL))
        return tc_throw (error, "owner of %s is not valid UTF-8", path);
      const char *target = NULL;
      if (S_ISLNK (mode))
        {
          target = rpmfiFLink (fi);
          if (target == NULL || *target == '\0' || !g_utf8_validate (target, -1, NULL))
            return tc_throw (error, "symlink %s has an empty or invalid target", path);
        }

      g_autoptr (GError) local_error = NULL;
      g_autofree char *line = NULL;
      g_autofree char *tree_path = tc_importer_translate_path (relpath, S_ISDIR (mode), user, group,
                                                               mode, target, &line, &local_error);
      if (local_error)
        {
          if ((self->flags & TC_IMPORT_FLAGS_SKIP_UNSUPPORTED)
              && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
            {
              g_ptr_array_add (self->skipped_paths, g_strdup (path));
              continue;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }

      if (line)
        {
          /* The line's path, without "/", is where the entry lives at runtime. */
          const char *lpath = line + 2;
          g_autofree char *key = g_strndup (lpath + 1, strcspn (lpath + 1, " "));
          if (!g_hash_table_contains (planned, key))
            {
              g_hash_table_insert (planned, g_steal_pointer (&key),
                                   planned_path_new (line[0] == 'd', line[0] == 'L', path));
              g_string_append_printf (self->tmpfiles, "%s\n", line);
            }
        }
      if (tree_path == NULL)
        {
          if (line == NULL && S_ISREG (mode))
            g_ptr_array_add (self->dropped_var_files, g_strdup (path));
          continue;
        }
      if (*tree_path == '\0')
        continue; /* the root directory: its metadata is fixed */

      if (!S_ISDIR (mode) && !S_ISREG (mode) && !S_ISLNK (mode))
        return tc_throw (error, "%s is a device, FIFO or socket, which a tree cannot hold", path);

      PlannedPath *prev = g_hash_table_lookup (planned, tree_path);
      if (prev && prev->is_dir && S_ISDIR (mode))
        continue; /* e.g. /bin and /usr/bin: one directory */
      if (prev)
        return tc_throw (error, "%s and %s both map to /%s", prev->rpm_path, path, tree_path);
      g_hash_table_insert (planned, g_strdup (tree_path),
                           planned_path_new (S_ISDIR (mode), S_ISLNK (mode), path));

      gboolean nonroot = !g_str_equal (user, "root") || !g_str_equal (group, "root");
      if (nonroot)
        {
          g_variant_builder_add (&self->nonroot, "(sss)", tree_path, user, group);
          self->have_nonroot = TRUE;
          if (S_ISREG (mode) && (mode & (S_ISUID | S_ISGID)))
            {
              g_variant_builder_add (&self->nonroot_setid, "(su)", tree_path, mode);
              self->have_nonroot_setid = TRUE;
              mode &= ~(S_ISUID | S_ISGID);
            }
        }
      e->mode = mode;
      e->tree_path = g_steal_pointer (&tree_path);
      if (S_ISDIR (mode))
        e->kind = ENTRY_DIR;
      else if (S_ISLNK (mode))
        {
          e->kind = ENTRY_SYMLINK;
          e->symlink_target = g_strdup (target);
        }
      else
        {
          e->kind = ENTRY_REGFILE;
          const char *fcaps = rpmfiFCaps (fi);
          if (fcaps && *fcaps && !fcaps_to_xattrs (fcaps, &e->xattrs, error))
            return (g_prefix_error (error, "%s: ", path), FALSE);
        }
    }

  self->tmpfiles_conf_path
      = g_strdup_printf ("usr/lib/tmpfiles.d/pkg-%s.conf", headerGetString (self->h, RPMTAG_NAME));
  if (self->tmpfiles->len > 0)
    {
      if (g_hash_table_contains (planned, self->tmpfiles_conf_path))
        return tc_throw (error, "the package ships /%s, which treectl generates",
                         self->tmpfiles_conf_path);
      g_hash_table_insert (planned, g_strdup (self->tmpfiles_conf_path),
                           planned_path_new (FALSE, FALSE, self->tmpfiles_conf_path));
    }

  /* Nothing may be written through a symlink or below a file: no parent of any planned
   * path may be a non-directory planned by this package. */
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, planned);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      const char *p = key;
      PlannedPath *pp = value;
      for (const char *slash = strchr (p, '/'); slash; slash = strchr (slash + 1, '/'))
        {
          g_autofree char *parent = g_strndup (p, slash - p);
          PlannedPath *pparent = g_hash_table_lookup (planned, parent);
          if (pparent == NULL || pparent->is_dir)
            continue;
          return tc_throw (
              error, "path %s would be written through %s %s shipped by the same package",
              pp->rpm_path, pparent->is_symlink ? "symlink" : "file", pparent->rpm_path);
        }
    }
  return TRUE;
}

static gboolean
write_dirmeta (Importer *self, guint32 mode, char **out_checksum, GCancellable *cancellable,
               GError **error)
{
  g_autofree char *key = g_strdup_printf ("%u", mode);
  const char *cached = g_hash_table_lookup (self->dirmeta_cache, key);
  if (cached)
    {
      *out_checksum = g_strdup (cached);
      return TRUE;
    }
  g_autoptr (GFileInfo) info = g_file_info_new ();
  g_file_info_set_file_type (info, G_FILE_TYPE_DIRECTORY);
  g_file_info_set_attribute_uint32 (info, "unix::uid", 0);
  g_file_info_set_attribute_uint32 (info, "unix::gid", 0);
  g_file_info_set_attribute_uint32 (info, "unix::mode", mode);
  g_autoptr (GVariant) dirmeta = g_variant_ref_sink (ostree_create_directory_metadata (info, NULL));
  g_autofree guchar *csum = NULL;
  if (!ostree_repo_write_metadata (self->repo, OSTREE_OBJECT_TYPE_DIR_META, NULL, dirmeta, &csum,
                                   cancellable, error))
    return FALSE;
  char *checksum = ostree_checksum_from_bytes (csum);
  g_hash_table_insert (self->dirmeta_cache, g_steal_pointer (&key), g_strdup (checksum));
  *out_checksum = checksum;
  return TRUE;
}

/* The content checksum libostree gives a file: sha256 over its object stream (header with
 * uid, gid, mode and xattrs, then the bytes). */
static char *
content_checksum (GFileInfo *info, GVariant *xattrs, const guint8 *data, gsize size,
                  GCancellable *cancellable, GError **error)
{
  g_autoptr (GInputStream) header = NULL;
  guint64 objlen = 0;
  if (!ostree_raw_file_to_content_stream (NULL, info, xattrs, &header, &objlen, cancellable,
                                          error))
    return NULL;
  gsize header_len = objlen - size;
  g_autofree guint8 *hbuf = g_malloc (header_len);
  gsize n = 0;
  if (!g_input_stream_read_all (header, hbuf, header_len, &n, cancellable, error))
    return NULL;
  if (n != header_len)
    return (tc_throw (error, "short object header"), NULL);
  DIGEST_CTX ctx = rpmDigestInit (PGPHASHALGO_SHA256, RPMDIGEST_NONE);
  rpmDigestUpdate (ctx, hbuf, header_len);
  rpmDigestUpdate (ctx, data, size);
  return digest_finish (ctx);
}

gboolean
tc_importer_write_trusted (OstreeRepo *repo, const char *checksum, GFileInfo *info,
                           GVariant *xattrs, GBytes *data, GCancellable *cancellable,
                           GError **error)
{
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (data);
  g_autoptr (GInputStream) objin = NULL;
  guint64 objlen = 0;
  if (!ostree_raw_file_to_content_stream (in, info, xattrs, &objin, &objlen, cancellable, error))
    return FALSE;
  return ostree_repo_write_content (repo, checksum, objin, objlen, NULL, cancellable, error);
}

/* Hands the content object @checksum to the mirror function, if there is one. */
static gboolean
mirror_object (Importer *self, const char *checksum, GFileInfo *info, GVariant *xattrs,
               GBytes *data, GCancellable *cancellable, GError **error)
{
  if (self->mirror == NULL)
    return TRUE;
  return self->mirror (self->repo, checksum, info, xattrs, data, self->mirror_data, cancellable,
                       error);
}

/* Reads exactly @size bytes of the current payload file. */
static gboolean
read_payload_file (rpmfi fi, guint8 *buf, gsize size, GError **error)
{
  for (gsize off = 0; off < size;)
    {
      ssize_t n = rpmfiArchiveRead (fi, buf + off, size - off);
      if (n <= 0)
        return tc_throw (error, "payload ends %" G_GSIZE_FORMAT " bytes early (truncated or "
                                "corrupt)",
                         size - off);
      off += n;
    }
  return TRUE;
}

/* Writes the current payload file as a content object (and to the mirror). */
static gboolean
write_regfile (Importer *self, rpmfi fi, const Entry *e, char **out_checksum,
               GCancellable *cancellable, GError **error)
{
  guint64 size = rpmfiFSize (fi);

  /* The payload digest already covers every byte; check file digests only without one. */
  g_autoptr (GChecksum) file_checksum = NULL;
  g_autofree char *expected = NULL;
  if (!self->have_payload_digest)
    {
      int algo = 0;
      expected = rpmfiFDigestHex (fi, &algo);
      GChecksumType type;
      if (expected && *expected)
        {
          if (!checksum_type_for_pgp_algo (algo, &type))
            return tc_throw (error, "unsupported file digest algorithm %d", algo);
          file_checksum = g_checksum_new (type);
        }
    }

  g_autoptr (GFileInfo) info = g_file_info_new ();
  g_file_info_set_file_type (info, G_FILE_TYPE_REGULAR);
  g_file_info_set_size (info, size);
  g_file_info_set_attribute_uint32 (info, "unix::uid", 0);
  g_file_info_set_attribute_uint32 (info, "unix::gid", 0);
  g_file_info_set_attribute_uint32 (info, "unix::mode", e->mode);

  g_autofree char *checksum = NULL;
  g_autoptr (GBytes) data = NULL;
  if (size <= TC_IMPORTER_INMEMORY_MAX)
    {
      guint8 *buf = g_malloc (size ? size : 1);
      data = g_bytes_new_take (buf, size);
      if (!read_payload_file (fi, buf, size, error))
        return FALSE;
      if (file_checksum)
        g_checksum_update (file_checksum, buf, size);
      checksum = content_checksum (info, e->xattrs, buf, size, cancellable, error);
      if (checksum == NULL
          || !tc_importer_write_trusted (self->repo, checksum, info, e->xattrs, data, cancellable,
                                         error))
        return FALSE;
    }
  else
    {
      g_autoptr (TcPayloadStream) payload = g_object_new (tc_payload_stream_get_type (), NULL);
      payload->fi = fi;
      payload->remaining = size;
      payload->checksum = file_checksum;
      g_autoptr (GInputStream) objin = NULL;
      guint64 objlen = 0;
      if (!ostree_raw_file_to_content_stream (G_INPUT_STREAM (payload), info, e->xattrs, &objin,
                                              &objlen, cancellable, error))
        return FALSE;
      g_autofree guchar *csum = NULL;
      if (!ostree_repo_write_content (self->repo, NULL, objin, objlen, &csum, cancellable, error))
        return FALSE;
      if (payload->remaining != 0)
        return tc_throw (error, "payload ends early (truncated or corrupt)");
      checksum = ostree_checksum_from_bytes (csum);
    }
  if (file_checksum && !g_str_equal (g_checksum_get_string (file_checksum), expected))
    return tc_throw (error, "file digest mismatch (expected %s, got %s)", expected,
                     g_checksum_get_string (file_checksum));
  if (!mirror_object (self, checksum, info, e->xattrs, data, cancellable, error))
    return FALSE;
  *out_checksum = g_steal_pointer (&checksum);
  return TRUE;
}

static gboolean
write_payload (Importer *self, TcRpmLogCapture *log, GCancellable *cancellable, GError **error)
{
  const char *compressor = headerGetString (self->h, RPMTAG_PAYLOADCOMPRESSOR);
  if (compressor == NULL)
    compressor = "gzip";
  static const char *const known[] = { "gzip", "bzip2", "xz", "lzma", "zstd" };
  gboolean is_known = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    is_known = is_known || g_str_equal (compressor, known[i]);
  if (!is_known)
    return tc_throw (error, "unsupported payload compressor \"%s\"", compressor);

  g_auto (FD_t) rfd = fdDup (self->fd);
  if (rfd == NULL || Fseek (rfd, self->payload_start, SEEK_SET) < 0)
    return tc_throw (error, "seeking to the payload failed");
  g_autofree char *fmode = g_strconcat ("r.", compressor, NULL);
  /* Fdopen pushes the decompressor onto rfd itself and returns it. */
  if (Fdopen (rfd, fmode) == NULL || Ferror (rfd))
    return tc_throw (error, "opening the %s payload failed: %s", compressor, Fstrerror (rfd));

  g_auto (rpmfi) fi = rpmfiNewArchiveReader (rfd, self->files, RPMFI_ITER_READ_ARCHIVE);
  if (fi == NULL)
    return tc_throw (error, "reading the payload failed");
  int rc;
  while ((rc = rpmfiNext (fi)) >= 0)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      /* Hardlinked files carry their content on the last link only; every member then gets
       * the same object. */
      if (!S_ISREG (rpmfiFMode (fi)) || !rpmfiArchiveHasContent (fi))
        continue;
      int fx = rpmfiFX (fi);
      const int *links = NULL;
      guint32 nlink = rpmfiFLinks (fi, &links);
      if (nlink <= 1 || links == NULL)
        {
          links = &fx;
          nlink = 1;
        }
      const Entry *stored = NULL;
      for (guint32 i = 0; i < nlink && stored == NULL; i++)
        if (links[i] >= 0 && (guint)links[i] < self->n_entries
            && self->entries[links[i]].kind == ENTRY_REGFILE)
          stored = &self->entries[links[i]];
      if (stored == NULL)
        continue;
      g_autofree char *checksum = NULL;
      if (!write_regfile (self, fi, stored, &checksum, cancellable, error))
        return (g_prefix_error (error, "%s: ", rpmfiFN (fi)), FALSE);
      for (guint32 i = 0; i < nlink; i++)
        {
          Entry *e = &self->entries[links[i]];
          if (e->kind == ENTRY_REGFILE)
            {
              g_free (e->checksum);
              e->checksum = g_strdup (checksum);
            }
        }
    }
  if (rc != RPMERR_ITER_END)
    {
      g_autofree char *msg = rpmfileStrerror (rc);
      g_autofree char *why = rpm_messages (self, log);
      return tc_throw (error, "reading the payload failed: %s%s%s", msg, why ? ": " : "",
                       why ? why : "");
    }
  if (rpmfiArchiveClose (fi) > 0)
    return tc_throw (error, "reading the payload failed at its end");

  for (guint i = 0; i < self->n_entries; i++)
    {
      const Entry *e = &self->entries[i];
      if (e->kind == ENTRY_REGFILE && e->checksum == NULL)
        return tc_throw (error, "the payload has no content for /%s", e->tree_path);
    }
  return TRUE;
}

static gboolean
write_dirs_and_symlinks (Importer *self, GCancellable *cancellable, GError **error)
{
  for (guint i = 0; i < self->n_entries; i++)
    {
      Entry *e = &self->entries[i];
      if (e->kind == ENTRY_DIR)
        {
          if (!write_dirmeta (self, e->mode, &e->checksum, cancellable, error))
            return FALSE;
        }
      else if (e->kind == ENTRY_SYMLINK)
        {
          e->checksum = ostree_repo_write_symlink (self->repo, NULL, 0, 0, NULL, e->symlink_target,
                                                   cancellable, error);
          if (e->checksum == NULL
              || !mirror_object (self, e->checksum, NULL, NULL, NULL, cancellable, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* Walks to (creating with default metadata) the directory holding @tree_path. */
static gboolean
mtree_parent (OstreeMutableTree *root, const char *tree_path, const char *default_dirmeta,
              OstreeMutableTree **out_parent, char **out_name, GError **error)
{
  g_auto (GStrv) comps = g_strsplit (tree_path, "/", -1);
  guint n = g_strv_length (comps);
  g_autoptr (OstreeMutableTree) dir = g_object_ref (root);
  for (guint i = 0; i + 1 < n; i++)
    {
      g_autoptr (OstreeMutableTree) sub = NULL;
      if (!ostree_mutable_tree_ensure_dir (dir, comps[i], &sub, error))
        return FALSE;
      if (ostree_mutable_tree_get_metadata_checksum (sub) == NULL)
        ostree_mutable_tree_set_metadata_checksum (sub, default_dirmeta);
      g_set_object (&dir, sub);
    }
  *out_parent = g_steal_pointer (&dir);
  *out_name = g_strdup (comps[n - 1]);
  return TRUE;
}

static gboolean
mtree_add (OstreeMutableTree *root, const char *tree_path, gboolean is_dir, const char *checksum,
           const char *default_dirmeta, GError **error)
{
  g_autoptr (OstreeMutableTree) parent = NULL;
  g_autofree char *name = NULL;
  if (!mtree_parent (root, tree_path, default_dirmeta, &parent, &name, error))
    return FALSE;
  if (!is_dir)
    return ostree_mutable_tree_replace_file (parent, name, checksum, error);
  g_autoptr (OstreeMutableTree) sub = NULL;
  if (!ostree_mutable_tree_ensure_dir (parent, name, &sub, error))
    return FALSE;
  ostree_mutable_tree_set_metadata_checksum (sub, checksum);
  return TRUE;
}

static GVariant *
commit_metadata (Importer *self, GError **error)
{
  GVariantBuilder b;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  Header h = self->h;
  g_autofree char *epoch
      = g_strdup_printf ("%" G_GUINT64_FORMAT, headerGetNumber (h, RPMTAG_EPOCH));
  g_variant_builder_add (&b, "{sv}", "treectl.nevra",
                         g_variant_new ("(sssss)", headerGetString (h, RPMTAG_NAME), epoch,
                                        headerGetString (h, RPMTAG_VERSION),
                                        headerGetString (h, RPMTAG_RELEASE),
                                        headerGetString (h, RPMTAG_ARCH)));
  unsigned int blob_len = 0;
  g_autofree void *blob = headerExport (h, &blob_len);
  g_variant_builder_add (&b, "{sv}", "treectl.rpm.header",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, blob, blob_len, 1));
  g_variant_builder_add (&b, "{sv}", "treectl.rpm.sha256", g_variant_new_string (self->sha256));
  g_variant_builder_add (&b, "{sv}", "treectl.unpack-version",
                         g_variant_new_uint32 (TC_IMPORTER_UNPACK_VERSION));
  g_variant_builder_add (&b, "{sv}", "treectl.nodocs",
                         g_variant_new_boolean ((self->flags & TC_IMPORT_FLAGS_NODOCS) != 0));
  if (self->have_nonroot)
    g_variant_builder_add (&b, "{sv}", "treectl.nonroot-files",
                           g_variant_builder_end (&self->nonroot));
  if (self->have_nonroot_setid)
    g_variant_builder_add (&b, "{sv}", "treectl.nonroot-setid",
                           g_variant_builder_end (&self->nonroot_setid));
  if (self->dropped_var_files->len > 0)
    g_variant_builder_add (&b, "{sv}", "treectl.dropped-var-files",
                           g_variant_new_strv ((const char *const *)self->dropped_var_files->pdata,
                                               self->dropped_var_files->len));
  if (self->skipped_paths->len > 0)
    g_variant_builder_add (&b, "{sv}", "treectl.skipped-paths",
                           g_variant_new_strv ((const char *const *)self->skipped_paths->pdata,
                                               self->skipped_paths->len));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

/* Everything that writes to the repository; runs inside a transaction. */
static gboolean
write_commit (Importer *self, TcRpmLogCapture *log, char **out_commit, char **out_ref,
              GCancellable *cancellable, GError **error)
{
  self->dirmeta_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *default_dirmeta = NULL;
  if (!write_dirmeta (self, TC_DEFAULT_DIR_MODE, &default_dirmeta, cancellable, error))
    return FALSE;
  if (!write_dirs_and_symlinks (self, cancellable, error))
    return FALSE;
  if (!write_payload (self, log, cancellable, error))
    return FALSE;

  g_autoptr (OstreeMutableTree) mtree = ostree_mutable_tree_new ();
  ostree_mutable_tree_set_metadata_checksum (mtree, default_dirmeta);
  for (guint i = 0; i < self->n_entries; i++)
    {
      const Entry *e = &self->entries[i];
      if (e->kind == ENTRY_SKIP)
        continue;
      if (!mtree_add (mtree, e->tree_path, e->kind == ENTRY_DIR, e->checksum, default_dirmeta,
                      error))
        return (g_prefix_error (error, "/%s: ", e->tree_path), FALSE);
    }
  if (self->tmpfiles->len > 0)
    {
      g_autofree char *checksum = ostree_repo_write_regfile_inline (
          self->repo, NULL, 0, 0, S_IFREG | 0644, NULL, (const guint8 *)self->tmpfiles->str,
          self->tmpfiles->len, cancellable, error);
      if (checksum == NULL
          || !mirror_object (self, checksum, NULL, NULL, NULL, cancellable, error))
        return FALSE;
      if (!mtree_add (mtree, self->tmpfiles_conf_path, FALSE, checksum, default_dirmeta, error))
        return FALSE;
    }

  g_autoptr (GFile) root = NULL;
  if (!ostree_repo_write_mtree (self->repo, mtree, &root, cancellable, error))
    return FALSE;
  g_autoptr (GVariant) metadata = commit_metadata (self, error);
  if (!metadata)
    return FALSE;
  guint64 buildtime = headerGetNumber (self->h, RPMTAG_BUILDTIME);
  g_autofree char *commit = NULL;
  if (!ostree_repo_write_commit_with_time (self->repo, NULL, self->nevra, NULL, metadata,
                                           OSTREE_REPO_FILE (root), buildtime, &commit, cancellable,
                                           error))
    return FALSE;
  g_autofree char *epoch
      = headerIsEntry (self->h, RPMTAG_EPOCH)
            ? g_strdup_printf ("%" G_GUINT64_FORMAT, headerGetNumber (self->h, RPMTAG_EPOCH))
            : NULL;
  g_autofree char *ref = tc_importer_ref_for_nevra (
      headerGetString (self->h, RPMTAG_NAME), epoch, headerGetString (self->h, RPMTAG_VERSION),
      headerGetString (self->h, RPMTAG_RELEASE), headerGetString (self->h, RPMTAG_ARCH));
  ostree_repo_transaction_set_ref (self->repo, NULL, ref, commit);
  *out_commit = g_steal_pointer (&commit);
  if (out_ref)
    *out_ref = g_steal_pointer (&ref);
  return TRUE;
}

static gboolean
import_rpm (Importer *self, gboolean in_transaction, char **out_commit, char **out_ref,
            GCancellable *cancellable, GError **error)
{
  g_autoptr (TcRpmLogCapture) log = tc_rpm_log_capture_begin ();
  if (!read_header (self, log, error))
    return FALSE;
  if (!verify_payload (self, cancellable, error))
    return FALSE;
  if (!plan_entries (self, error))
    return (g_prefix_error (error, "%s: ", self->nevra), FALSE);

  if (in_transaction)
    {
      if (!write_commit (self, log, out_commit, out_ref, cancellable, error))
        return (g_prefix_error (error, "%s: ", self->nevra), FALSE);
      return TRUE;
    }
  if (!ostree_repo_prepare_transaction (self->repo, NULL, cancellable, error))
    return FALSE;
  g_autofree char *commit = NULL;
  g_autofree char *ref = NULL;
  if (!write_commit (self, log, &commit, &ref, cancellable, error))
    {
      ostree_repo_abort_transaction (self->repo, NULL, NULL);
      return (g_prefix_error (error, "%s: ", self->nevra), FALSE);
    }
  if (!ostree_repo_commit_transaction (self->repo, NULL, cancellable, error))
    {
      ostree_repo_abort_transaction (self->repo, NULL, NULL);
      return FALSE;
    }
  *out_commit = g_steal_pointer (&commit);
  if (out_ref)
    *out_ref = g_steal_pointer (&ref);
  return TRUE;
}

gboolean
tc_importer_import (OstreeRepo *repo, const char *rpm_path, const TcImportOptions *opts,
                    gboolean in_transaction, char **out_commit, char **out_ref,
                    GCancellable *cancellable, GError **error)
{
  if (!tc_rpm_init (error))
    return FALSE;
  Importer self = {
    .repo = repo,
    .rpm_path = rpm_path,
    .flags = opts ? opts->flags : TC_IMPORT_FLAGS_NONE,
    .keyring_dir = opts ? opts->keyring_dir : NULL,
    .expected_sha256 = opts ? opts->expected_sha256 : NULL,
    .mirror = opts ? opts->mirror : NULL,
    .mirror_data = opts ? opts->mirror_data : NULL,
    .fd = -1,
  };
  const char *name = opts && opts->display_name ? opts->display_name : rpm_path;
  if ((self.flags & TC_IMPORT_FLAGS_REQUIRE_SIGNATURE) && self.keyring_dir == NULL)
    return tc_throw (error, "importing %s: a signature is required but no keyring was given",
                     name);
  g_autofree char *commit = NULL;
  g_autofree char *ref = NULL;
  gboolean ok = import_rpm (&self, in_transaction, &commit, &ref, cancellable, error);
  importer_clear (&self);
  if (!ok)
    return (g_prefix_error (error, "importing %s: ", name), FALSE);
  *out_commit = g_steal_pointer (&commit);
  if (out_ref)
    *out_ref = g_steal_pointer (&ref);
  return TRUE;
}
