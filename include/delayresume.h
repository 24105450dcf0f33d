/*
 * delayresume.h — delayed resume: take a checkpoint and keep every other
 * thread parked until the caller says so.
 *
 *   if (dmtcp_checkpoint_block_resume() == DMTCP_AFTER_CHECKPOINT) {
 *       copy_the_files_that_matter();      // no other thread runs meanwhile
 *       dmtcp_checkpoint_unblock_resume();
 *   }
 *
 * Provided by libdmtcp_delayresume.so (dmtcp_launch --with-plugin …).  Both
 * functions are weak: without the engine or without the plugin the macros
 * yield DMTCP_NOT_PRESENT and the program runs as usual.
 *
 * dmtcp_checkpoint_block_resume() returns
 *   DMTCP_AFTER_CHECKPOINT  the image is durable; every other thread of the
 *                           process is parked (using no CPU) until unblock;
 *   DMTCP_AFTER_RESTART     running again from the image: every thread runs,
 *                           there is nothing to unblock;
 *   DMTCP_NOT_PRESENT       no engine or no plugin;
 *   DMTCP_RESUME_EBUSY      another thread is in block_resume right now;
 *   DMTCP_RESUME_EOPEN      a window is already open (unblock it first);
 *   DMTCP_RESUME_ESIGNAL    called from a signal handler;
 *   DMTCP_ERROR             the checkpoint failed (nothing is parked).
 * dmtcp_checkpoint_unblock_resume() returns 0, or
 *   DMTCP_RESUME_ENOWINDOW  no window is open;
 *   DMTCP_RESUME_EPERM      the caller is not the thread that opened it;
 *   DMTCP_RESUME_ETIMEDOUT  DMTCP_DELAYRESUME_TIMEOUT had already released
 *                           the threads (the window is closed now).
 * Each error also prints one warning line.  See docs/plugins.md.
 */
#ifndef DMTCP_DELAYRESUME_H
#define DMTCP_DELAYRESUME_H

#include "dmtcp.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DMTCP_RESUME_EBUSY (-11)
#define DMTCP_RESUME_EOPEN (-12)
#define DMTCP_RESUME_ESIGNAL (-13)
#define DMTCP_RESUME_ENOWINDOW (-14)
#define DMTCP_RESUME_EPERM (-15)
#define DMTCP_RESUME_ETIMEDOUT (-16)

int dmtcp_checkpoint_block_resume(void) __attribute__((weak));
int dmtcp_checkpoint_unblock_resume(void) __attribute__((weak));

#define dmtcp_checkpoint_block_resume() \
    (dmtcp_checkpoint_block_resume ? dmtcp_checkpoint_block_resume() : DMTCP_NOT_PRESENT)
#define dmtcp_checkpoint_unblock_resume() \
    (dmtcp_checkpoint_unblock_resume ? dmtcp_checkpoint_unblock_resume() : DMTCP_NOT_PRESENT)

#ifdef __cplusplus
}
#endif
#endif
