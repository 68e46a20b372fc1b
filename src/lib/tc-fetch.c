/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Downloads with libcurl. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tc-fetch.h"
#include "tc-output.h"
#include "tc-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURL, curl_easy_cleanup)

gboolean
tc_fetch_url_is_local (const char *url, char **out_path)
{
  if (!g_str_has_prefix (url, "file://"))
    return FALSE;
  g_autofree char *path = g_filename_from_uri (url, NULL, NULL);
  if (!path)
    path = g_strdup (url + strlen ("file://"));
  *out_path = g_steal_pointer (&path);
  return TRUE;
}

char *
tc_sha256_file (const char *path, GError **error)
{
  g_autoptr(GMappedFile) map = g_mapped_file_new (path, FALSE, error);
  if (!map)
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                      (const guchar *)g_mapped_file_get_contents (map),
                                      g_mapped_file_get_length (map));
}

static int
progress_cb (void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
             curl_off_t ulnow)
{
  GCancellable *cancellable = clientp;
  return g_cancellable_is_cancelled (cancellable) ? 1 : 0;
}

static CURL *
new_handle (const char *url, GCancellable *cancellable)
{
  static gsize initialized;
  if (g_once_init_enter (&initialized))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&initialized, 1);
    }
  CURL *curl = curl_easy_init ();
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (curl, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, 30L);
  /* Give up on a stalled transfer: under 1 byte/s for 60 s. */
  curl_easy_setopt (curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  if (cancellable)
    {
      curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
      curl_easy_setopt (curl, CURLOPT_XFERINFODATA, cancellable);
      curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
    }
  return curl;
}

static gboolean
curl_throw (CURLcode rc, CURL *curl, const char *url, GCancellable *cancellable, GError **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  long status = 0;
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 400)
    {
      g_set_error (error, G_IO_ERROR, status == 404 ? G_IO_ERROR_NOT_FOUND : G_IO_ERROR_FAILED,
                   "fetching %s: server returned HTTP %ld", url, status);
      return FALSE;
    }
  return tc_throw (error, "fetching %s: %s", url, curl_easy_strerror (rc));
}

static size_t
append_to_bytes (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  g_byte_array_append (userdata, (const guint8 *)ptr, size * nmemb);
  return size * nmemb;
}

GBytes *
tc_fetch_to_bytes (const char *url, GCancellable *cancellable, GError **error)
{
  g_autofree char *local = NULL;
  if (tc_fetch_url_is_local (url, &local))
    {
      char *data = NULL;
      gsize len = 0;
      if (!g_file_get_contents (local, &data, &len, error))
        return NULL;
      return g_bytes_new_take (data, len);
    }
  g_autoptr(CURL) curl = new_handle (url, cancellable);
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, append_to_bytes);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, buf);
  CURLcode rc = curl_easy_perform (curl);
  if (rc != CURLE_OK)
    return (curl_throw (rc, curl, url, cancellable, error), NULL);
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

static gboolean
check_sha256 (const char *path, const char *url, const char *sha256, GError **error)
{
  g_autofree char *actual = tc_sha256_file (path, error);
  if (!actual)
    return FALSE;
  if (g_ascii_strcasecmp (actual, sha256) != 0)
    return tc_throw (error, "checksum mismatch for %s: expected sha256 %s, got %s", url, sha256,
                     actual);
  return TRUE;
}

gboolean
tc_fetch_to_file (const char *url, const char *dest_path, const char *sha256,
                  GCancellable *cancellable, GError **error)
{
  g_autofree char *local = NULL;
  if (tc_fetch_url_is_local (url, &local))
    {
      /* Verify in place; the caller reads the file from where it is. */
      if (!g_file_test (local, G_FILE_TEST_IS_REGULAR))
        return tc_throw (error, "fetching %s: no such file", url);
      return sha256 == NULL || check_sha256 (local, url, sha256, error);
    }

  g_autofree char *part = g_strconcat (dest_path, ".part", NULL);
  /* A partial download left by an earlier run is resumed. When that fails, or what it gives
   * does not match the checksum (the partial file was damaged, or is of another file of the
   * same name), the download starts over once from the first byte. */
  for (gboolean from_start = FALSE;; from_start = TRUE)
    {
      FILE *out = fopen (part, from_start ? "wb" : "ab");
      if (!out)
        return tc_throw_errno_prefix (error, "opening %s", part);
      long offset = ftell (out);
      g_autoptr(CURL) curl = new_handle (url, cancellable);
      curl_easy_setopt (curl, CURLOPT_WRITEDATA, out);
      if (offset > 0)
        curl_easy_setopt (curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)offset);
      CURLcode rc = curl_easy_perform (curl);
      if (fclose (out) != 0 && rc == CURLE_OK)
        return tc_throw_errno_prefix (error, "writing %s", part);
      g_autoptr(GError) local_error = NULL;
      if (rc != CURLE_OK)
        curl_throw (rc, curl, url, cancellable, &local_error);
      else if (sha256 && !check_sha256 (part, url, sha256, &local_error))
        (void)unlink (part);
      if (!local_error)
        break;
      if (offset == 0 || rc == CURLE_ABORTED_BY_CALLBACK)
        return (g_propagate_error (error, g_steal_pointer (&local_error)), FALSE);
      tc_output_message ("Resuming the partial download %s failed (%s); downloading it again",
                         part, local_error->message);
    }
  if (rename (part, dest_path) < 0)
    return tc_throw_errno_prefix (error, "renaming %s", part);
  return TRUE;
}
