/* SPDX-License-Identifier: LGPL-2.1-or-later
 * libtreectl: the public entry points for the host path. */
#pragma once

#include "tc-deployments.h"
#include "tc-init.h"
#include "tc-layer.h"
#include "tc-origin.h"
#include "tc-output.h"
#include "tc-pull.h"
#include "tc-sysroot.h"
#include "tc-upgrader.h"
#include "tc-util.h"
