/* grow-on-read.c: an LD_PRELOAD shim for the tests. Every read() of a
 * file whose path contains $GROW_ON_READ first appends a few words to
 * that file, as a writer still at work would: the reader sees the file
 * grow while it reads it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t
read (int fd, void *buf, size_t count)
{
  static ssize_t (*real_read) (int, void *, size_t);
  if (real_read == NULL)
    real_read = (ssize_t (*) (int, void *, size_t)) dlsym (RTLD_NEXT, "read");
  const char *target = getenv ("GROW_ON_READ");
  if (target != NULL && *target != '\0')
    {
      char link[64], path[4096];
      snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
      ssize_t n = readlink (link, path, sizeof path - 1);
      if (n > 0)
        {
          path[n] = '\0';
          if (strstr (path, target) != NULL)
            {
              int afd = open (path, O_WRONLY | O_APPEND | O_CLOEXEC);
              if (afd >= 0)
                {
                  if (write (afd, " more words", 11) != 11)
                    abort ();
                  close (afd);
                }
            }
        }
    }
  return real_read (fd, buf, count);
}
