/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The one place libtreectl reports progress: a console sink by default, replaced by
 * treectld with a sink that turns each call into a D-Bus signal. */
#pragma once

#include <ostree.h>

G_BEGIN_DECLS

typedef struct
{
  void (*message) (const char *text, gpointer user_data);
  void (*task_begin) (const char *text, gpointer user_data);
  void (*task_end) (const char *text, gpointer user_data);
  void (*percent) (const char *text, guint percent, gpointer user_data);
  /* @progress is an a{sv}; see the DownloadProgress signal in the D-Bus XML. */
  void (*download) (GVariant *progress, gpointer user_data);
} TcOutputSink;

/* Replace the process-wide sink (NULL restores the console sink). */
void tc_output_set_sink (const TcOutputSink *sink, gpointer user_data);

void tc_output_message (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
void tc_output_task_begin (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
void tc_output_task_end (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
void tc_output_percent (guint percent, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
void tc_output_download (GVariant *progress);

/* An OstreeAsyncProgress whose changes are forwarded to tc_output_download(). The progress
 * callback runs on the thread-default main context current at creation. */
OstreeAsyncProgress *tc_output_new_pull_progress (void);
/* Builds the a{sv} for tc_output_download() from a pull progress object. */
GVariant *tc_output_pull_progress_to_variant (OstreeAsyncProgress *progress);

/* Renders a DownloadProgress dict as one human line ("Receiving objects: 12/40 (30%) 1.2 MB
 * 400 kB/s"). */
char *tc_output_format_download (GVariant *progress);

G_END_DECLS
