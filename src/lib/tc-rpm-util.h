/* SPDX-License-Identifier: LGPL-2.1-or-later
 * librpm glue shared by the stages that read packages: cleanup functions for librpm handles,
 * one-time library setup, capturing librpm's log into GErrors, and keyrings from a directory. */
#pragma once

#include <gio/gio.h>
#include <rpm/header.h>
#include <rpm/rpmfi.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmio.h>
#include <rpm/rpmkeyring.h>
#include <rpm/rpmts.h>

G_BEGIN_DECLS

/* librpm's handle types are pointer typedefs, so they take g_auto (), not g_autoptr (). */
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (Header, headerFree, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (rpmts, rpmtsFree, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (FD_t, Fclose, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (rpmfi, rpmfiFree, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (rpmfiles, rpmfilesFree, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (rpmKeyring, rpmKeyringFree, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (rpmPubkey, rpmPubkeyFree, NULL)

/* Reads librpm's configuration once per process (thread-safe) and points %_dbpath at a path
 * that can never be created, so nothing a stage does by accident touches the host's rpmdb
 * (on Debian it defaults to ~/.rpmdb). Stages that want an rpmdb set %_dbpath themselves. */
gboolean tc_rpm_init (GError **error);

/* While alive, librpm's log messages are collected here instead of printed on stderr. */
typedef struct TcRpmLogCapture TcRpmLogCapture;
TcRpmLogCapture *tc_rpm_log_capture_begin (void);
/* The collected warning and error messages joined by "; " (NULL if none). */
const char *tc_rpm_log_capture_get (TcRpmLogCapture *capture);
/* Forgets the messages collected so far. */
void tc_rpm_log_capture_reset (TcRpmLogCapture *capture);
void tc_rpm_log_capture_end (TcRpmLogCapture *capture);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcRpmLogCapture, tc_rpm_log_capture_end)

/* A keyring holding every public key (ASCII-armored, or binary OpenPGP) in @keyring_dir,
 * subkeys included. Files that are not keys are an error naming the file. An empty
 * directory gives an empty keyring. */
rpmKeyring tc_rpm_keyring_new_from_dir (const char *keyring_dir, GError **error);

/* "NAME-[EPOCH:]VERSION-RELEASE.ARCH", the epoch left out when absent or 0. */
char *tc_rpm_header_nevra (Header h);

G_END_DECLS
