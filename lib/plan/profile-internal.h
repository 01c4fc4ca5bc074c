/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the parts of profile reading share, private to lib/plan/: the kinds
 * of keys the key table in profile.c holds, and the calls between profile.c
 * (the table, the profile, its checks), profile-values.c (one value of one
 * key) and profile-ini.c (the INI text).
 */
#ifndef VFK_PROFILE_INTERNAL_H
#define VFK_PROFILE_INTERNAL_H

#include "plan/profile.h"

/* A profile's sections; [disk.NAME], [network.NAME], [hostdev.NAME] and
 * [usb.NAME] are S_DISK, S_NET, S_HOSTDEV and S_USB: the sections that take a
 * NAME are the last ones, from S_DISK on. */
enum scope { S_VM, S_TUNING, S_DISPLAY, S_INPUT, S_AUDIO, S_GPU, S_VFIO, S_DISK, S_NET,
	     S_HOSTDEV, S_USB, _S_MAX };

enum ktype {
	K_STR,		/* text: UTF-8, no control characters or noncharacters */
	K_NAME,		/* text without '/', at most 100 bytes */
	K_PATH,		/* a file; relative to the profile's directory; not "/" */
	K_SIZE,		/* memory size -> MiB, 32 MiB to 16 TiB */
	K_UINT,
	K_BOOL,
	K_TRI,		/* auto | yes | no */
	K_ENUM,
	K_VCPUS,	/* auto | N */
	K_RES,		/* WIDTHxHEIGHT */
	K_MAC,		/* unicast, not all zeros */
	K_VENDOR,	/* Hyper-V vendor id: 1-12 printable ASCII, no space or ',' */
	K_ADDR,		/* listen address: IPv4 or IPv6, no host name */
	K_IFNAME,	/* network interface name */
	K_SELECTOR,	/* GPU selector; address-like ones must parse */
	K_DEVICE,	/* one PCI device, as one GPU selector */
	K_USB_ID,	/* USB vendor:product, "046d:c52b" */
	K_USB_PORT,	/* USB port path on its bus, "1.2" */
};

/* One key: its section, what it takes, where in struct vfk_profile (or
 * prof_disk, prof_net, prof_hostdev, prof_usb) it lands. */
struct keydef {
	enum scope scope;
	const char *name;
	enum ktype type;
	size_t off;
	const char *const *choices;	/* K_ENUM */
	unsigned int min, max;		/* K_UINT, K_VCPUS */
};

/* profile.c */
/* "FILE:LINE: MSG", or "FILE: MSG" for line 0. */
void profile_set_err(char *errbuf, size_t errsize, const char *file, int line, const char *msg);
char *profile_printable(const char *s);
enum scope profile_section_scope(const char *section, const char **id, const char **what);
int profile_apply(struct vfk_profile *p, const char *section, const char *key,
		  const char *value, int line, char **why);

/* profile-values.c */
const char *profile_text_problem(const char *s, char *buf, size_t size);
bool profile_chars_in(const char *v, const char *extra);
int profile_set_value(const struct vfk_profile *p, const struct keydef *k, void *base,
		      const char *v, char **why);

/* profile-ini.c */
/* The keys of INI @text applied to @p: 0, -EINVAL with the file's first
 * problem in @errbuf ("FILE:LINE: ..."), or -ENOMEM. */
int profile_read_ini(struct vfk_profile *p, const char *text, const char *file, char *errbuf,
		     size_t errsize);

#endif
