// SPDX-License-Identifier: BSD-2-Clause
/* tc requests over rtnetlink, with the kernel's extended ack: see rtnl.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/rtnl.h"

void fc_nl_attr(struct fc_nlreq *req, int type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->n.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	req->n.nlmsg_len = NLMSG_ALIGN(req->n.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

void fc_nl_tcreq(struct fc_nlreq *req, int type, int flags, int ifindex, uint32_t parent,
		 uint32_t handle)
{
	memset(req, 0, sizeof(*req));
	req->n.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	req->n.nlmsg_type = type;
	req->n.nlmsg_flags = NLM_F_REQUEST | flags;
	req->t.tcm_family = AF_UNSPEC;
	req->t.tcm_ifindex = ifindex;
	req->t.tcm_parent = parent;
	req->t.tcm_handle = handle;
}

int fc_nl_talk(struct fc_nlreq *req, char *ext, size_t extlen,
	       void (*cb)(struct nlmsghdr *h, void *arg), void *arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static char buf[65536];
	int fd, n, one = 1, err = -EPROTO;

	if (ext && extlen)
		ext[0] = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (sendto(fd, req, req->n.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned int)n);
		     h = NLMSG_NEXT(h, n)) {
			struct nlmsgerr *e;
			struct rtattr *a;
			int alen;

			if (h->nlmsg_type == NLMSG_DONE) {
				err = 0;
				goto out;
			}
			if (h->nlmsg_type != NLMSG_ERROR) {
				if (cb)
					cb(h, arg);
				continue;
			}
			e = NLMSG_DATA(h);
			err = e->error;
			/* capped ack: the extack attributes follow the echoed header */
			a = (struct rtattr *)((char *)e + sizeof(*e));
			alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*e));
			for (; ext && (h->nlmsg_flags & NLM_F_ACK_TLVS) && RTA_OK(a, alen);
			     a = RTA_NEXT(a, alen))
				if (a->rta_type == NLMSGERR_ATTR_MSG)
					snprintf(ext, extlen, "%s", (char *)RTA_DATA(a));
			goto out;
		}
	}
	if (n < 0)
		err = -errno;
out:
	close(fd);
	return err;
}
