/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Progress and message output, routed through a replaceable sink. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "tc-output.h"

/* On a terminal a task's progress rewrites one line; in a pipe each task prints one line
 * when it ends and percentages are left out. */
static char *console_task;
static gint64 console_task_start;
static gboolean console_line_open;

static gboolean
console_is_tty (void)
{
  static int is_tty = -1;
  if (is_tty < 0)
    is_tty = isatty (STDOUT_FILENO);
  return is_tty;
}

static void
console_close_line (void)
{
  if (console_line_open)
    g_print ("\n");
  console_line_open = FALSE;
}

static void
console_message (const char *text, gpointer user_data)
{
  console_close_line ();
  g_print ("%s\n", text);
}

static void
console_task_begin (const char *text, gpointer user_data)
{
  console_close_line ();
  g_free (console_task);
  console_task = g_strdup (text);
  console_task_start = g_get_monotonic_time ();
  if (console_is_tty ())
    {
      g_print ("%s... ", text);
      fflush (stdout);
      console_line_open = TRUE;
    }
}

static void
console_task_end (const char *text, gpointer user_data)
{
  /* How long each stage took is what a build engineer looks at first. */
  double secs = (g_get_monotonic_time () - console_task_start) / (double)G_USEC_PER_SEC;
  if (console_is_tty ())
    g_print ("\r\033[K%s... %s (%.1f s)\n", console_task ? console_task : "", text, secs);
  else
    g_print ("%s: %s (%.1f s)\n", console_task ? console_task : "", text, secs);
  console_line_open = FALSE;
  g_clear_pointer (&console_task, g_free);
}

static void
console_percent (const char *text, guint percent, gpointer user_data)
{
  if (!console_is_tty ())
    return;
  g_print ("\r\033[K%s: [%-30.*s] %3u%%", text, (int)(percent * 30 / 100),
           "==============================", percent);
  fflush (stdout);
  console_line_open = TRUE;
}

static void
console_download (GVariant *progress, gpointer user_data)
{
  g_autofree char *line = tc_output_format_download (progress);
  if (console_is_tty ())
    {
      g_print ("\r\033[K%s", line);
      fflush (stdout);
      console_line_open = TRUE;
    }
  else if (g_variant_lookup (progress, "status", "&s", NULL))
    g_print ("  %s\n", line);
}

static const TcOutputSink console_sink = {
  console_message, console_task_begin, console_task_end, console_percent, console_download,
};

static const TcOutputSink *current_sink = &console_sink;
static gpointer current_data;

void
tc_output_set_sink (const TcOutputSink *sink, gpointer user_data)
{
  current_sink = sink ? sink : &console_sink;
  current_data = sink ? user_data : NULL;
}

#define FORMAT_AND_CALL(member)                                                                    \
  va_list args;                                                                                    \
  va_start (args, fmt);                                                                            \
  g_autofree char *text = g_strdup_vprintf (fmt, args);                                            \
  va_end (args);                                                                                   \
  current_sink->member (text, current_data)

void
tc_output_message (const char *fmt, ...)
{
  FORMAT_AND_CALL (message);
}

void
tc_output_task_begin (const char *fmt, ...)
{
  FORMAT_AND_CALL (task_begin);
}

void
tc_output_task_end (const char *fmt, ...)
{
  FORMAT_AND_CALL (task_end);
}

void
tc_output_percent (guint percent, const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  g_autofree char *text = g_strdup_vprintf (fmt, args);
  va_end (args);
  current_sink->percent (text, MIN (percent, 100), current_data);
}

void
tc_output_download (GVariant *progress)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (progress);
  current_sink->download (owned, current_data);
}

GVariant *
tc_output_pull_progress_to_variant (OstreeAsyncProgress *progress)
{
  guint fetched = 0, requested = 0, outstanding = 0, scanned = 0, delta_fetched = 0,
        delta_total = 0;
  guint64 bytes = 0, start_time = 0;
  ostree_async_progress_get (progress, "fetched", "u", &fetched, "requested", "u", &requested,
                             "outstanding-fetches", "u", &outstanding, "scanned-metadata", "u",
                             &scanned, "fetched-delta-parts", "u", &delta_fetched,
                             "total-delta-parts", "u", &delta_total, "bytes-transferred", "t",
                             &bytes, "start-time", "t", &start_time, NULL);
  guint64 elapsed_us = start_time ? g_get_monotonic_time () - start_time : 0;
  guint64 rate = elapsed_us > 0 ? bytes * G_USEC_PER_SEC / elapsed_us : 0;
  g_autofree char *status = ostree_async_progress_get_status (progress);

  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "fetched", g_variant_new_uint32 (fetched));
  g_variant_builder_add (&b, "{sv}", "requested", g_variant_new_uint32 (requested));
  g_variant_builder_add (&b, "{sv}", "outstanding-fetches", g_variant_new_uint32 (outstanding));
  g_variant_builder_add (&b, "{sv}", "scanned-metadata", g_variant_new_uint32 (scanned));
  g_variant_builder_add (&b, "{sv}", "fetched-delta-parts", g_variant_new_uint32 (delta_fetched));
  g_variant_builder_add (&b, "{sv}", "total-delta-parts", g_variant_new_uint32 (delta_total));
  g_variant_builder_add (&b, "{sv}", "bytes-transferred", g_variant_new_uint64 (bytes));
  g_variant_builder_add (&b, "{sv}", "bytes-per-second", g_variant_new_uint64 (rate));
  if (status && *status)
    g_variant_builder_add (&b, "{sv}", "status", g_variant_new_string (status));
  return g_variant_builder_end (&b);
}

static void
on_pull_progress_changed (OstreeAsyncProgress *progress, gpointer user_data)
{
  tc_output_download (tc_output_pull_progress_to_variant (progress));
}

OstreeAsyncProgress *
tc_output_new_pull_progress (void)
{
  return ostree_async_progress_new_and_connect (on_pull_progress_changed, NULL);
}

char *
tc_output_format_download (GVariant *progress)
{
  guint32 fetched = 0, requested = 0, scanned = 0;
  guint64 bytes = 0, rate = 0;
  const char *status = NULL;
  g_variant_lookup (progress, "fetched", "u", &fetched);
  g_variant_lookup (progress, "requested", "u", &requested);
  g_variant_lookup (progress, "scanned-metadata", "u", &scanned);
  g_variant_lookup (progress, "bytes-transferred", "t", &bytes);
  g_variant_lookup (progress, "bytes-per-second", "t", &rate);
  g_variant_lookup (progress, "status", "&s", &status);
  if (status)
    return g_strdup (status);
  g_autofree char *bytes_str = g_format_size (bytes);
  g_autofree char *rate_str = g_format_size (rate);
  guint pct = requested > 0 ? (guint)((guint64)fetched * 100 / requested) : 0;
  return g_strdup_printf ("Receiving objects: %u/%u (%u%%) %s %s/s, %u metadata scanned",
                          fetched, requested, pct, bytes_str, rate_str, scanned);
}
