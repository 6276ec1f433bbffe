/* SPDX-License-Identifier: Apache-2.0 */
/* BIMG_ASAN: 1 when built with AddressSanitizer (GCC says so with
 * __SANITIZE_ADDRESS__, clang only through __has_feature). Some speed-ups step
 * aside for it: its allocator must be the one every library finds, and its
 * leak check runs at exit. */
#ifndef BIMG_ASAN_H
#define BIMG_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define BIMG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BIMG_ASAN 1
#endif
#endif
#ifndef BIMG_ASAN
#define BIMG_ASAN 0
#endif

#endif
