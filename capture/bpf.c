/* SPDX-License-Identifier: ISC */
/*
 * The capture filter as a classic BPF program built here. It applies the
 * same rule as filter_wants(). libpcap's
 * compiler turns "ether dst m1 or ether dst m2 ..." into one comparison
 * per MAC and direction: 3500 instructions for 1000 MACs, run by the
 * kernel on every frame the interface receives. This program searches
 * the sorted set instead:
 *  - first by its first two bytes (a MAC's vendor part, shared by most
 *    of a site's VMs), one comparison per distinct value;
 *  - then by a binary search over the last four bytes, down to runs of
 *    at most TREE_RUN MACs compared one by one.
 * For 1000 MACs that share their first two bytes, one search costs at
 * most 28 instructions and a frame (two searches) about 60, instead of
 * up to 3500.
 *
 * Classic BPF only jumps forward, and a conditional jump reaches at most
 * 255 instructions. So each search node is a "jgt" over a one-word "ja"
 * past the left subtree. Each verdict (a leaf) is a single instruction:
 * "ret" or a "ja" to the next part of the program.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <pcap/bpf.h>

#include "capture/capture.h"

#define TREE_RUN	8	/* MACs compared one by one at a leaf */
#define KERNEL_MAXINSNS	4096	/* the kernel's limit for a socket filter */

/* Instructions, or only their count when insn is NULL. */
struct prog {
	struct bpf_insn	*insn;
	size_t		 n;
};

/* A verdict: "ret v", or "ja" to the absolute instruction v. */
struct leaf {
	int		 jump;
	bpf_u_int32	 v;
};

static void
op(struct prog *p, u_short code, u_char jt, u_char jf, bpf_u_int32 k)
{
	if (p->insn != NULL) {
		p->insn[p->n].code = code;
		p->insn[p->n].jt = jt;
		p->insn[p->n].jf = jf;
		p->insn[p->n].k = k;
	}
	p->n++;
}

static void
leaf(struct prog *p, struct leaf l)
{
	if (l.jump)
		op(p, BPF_JMP | BPF_JA, 0, 0, l.v - (bpf_u_int32)(p->n + 1));
	else
		op(p, BPF_RET | BPF_K, 0, 0, l.v);
}

static bpf_u_int32
mac_hi(const conf_mac m)
{
	return (bpf_u_int32)m[0] << 8 | m[1];
}

static bpf_u_int32
mac_lo(const conf_mac m)
{
	return (bpf_u_int32)m[2] << 24 | (bpf_u_int32)m[3] << 16 |
	    (bpf_u_int32)m[4] << 8 | m[5];
}

static size_t
tree_len(size_t n)
{
	if (n <= TREE_RUN)
		return n + 2;
	return 2 + tree_len(n / 2) + tree_len(n - n / 2);
}

/*
 * A holds the last four bytes; macs (sorted, sharing their first two
 * bytes) are searched for it.
 */
static void
tree(struct prog *p, const conf_mac *macs, size_t n, struct leaf yes,
    struct leaf no)
{
	size_t	 i, half = n / 2;

	if (n <= TREE_RUN) {
		/* Each "jeq" jumps to the "yes" leaf after the "no" one. */
		for (i = 0; i < n; i++)
			op(p, BPF_JMP | BPF_JEQ | BPF_K, (u_char)(n - i), 0,
			    mac_lo(macs[i]));
		leaf(p, no);
		leaf(p, yes);
		return;
	}
	/* Above the left half's largest: the "ja" past the left half. */
	op(p, BPF_JMP | BPF_JGT | BPF_K, 0, 1, mac_lo(macs[half - 1]));
	op(p, BPF_JMP | BPF_JA, 0, 0, (bpf_u_int32)tree_len(half));
	tree(p, macs, half, yes, no);
	tree(p, macs + half, n - half, yes, no);
}

/* The end of the group of MACs that share their first two bytes with i. */
static size_t
group_end(const struct served *s, size_t i)
{
	size_t	 j;

	for (j = i + 1; j < s->n && mac_hi(s->macs[j]) == mac_hi(s->macs[i]);
	    j++)
		;
	return j;
}

/* Is the MAC at frame offset off in the set? yes / no. */
static void
lookup(struct prog *p, const struct served *s, bpf_u_int32 off,
    struct leaf yes, struct leaf no)
{
	size_t	 i, j, ngroups = 0, at;

	for (i = 0; i < s->n; i = group_end(s, i))
		ngroups++;
	op(p, BPF_LD | BPF_H | BPF_ABS, 0, 0, off);
	/* Dispatch on the first two bytes: "jeq", else skip its "ja". */
	at = p->n + 2 * ngroups + 1;
	for (i = 0; i < s->n; i = j) {
		j = group_end(s, i);
		op(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, mac_hi(s->macs[i]));
		op(p, BPF_JMP | BPF_JA, 0, 0, (bpf_u_int32)(at - (p->n + 1)));
		at += 1 + tree_len(j - i);
	}
	leaf(p, no);
	for (i = 0; i < s->n; i = j) {
		j = group_end(s, i);
		op(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, off + 2);
		tree(p, s->macs + i, j - i, yes, no);
	}
}

static void
program(struct prog *p, const struct conf *c, const struct served *s,
    bpf_u_int32 snaplen, size_t part2)
{
	struct leaf	 take = { 0, snaplen }, drop = { 0, 0 };
	struct leaf	 next = { 1, (bpf_u_int32)part2 };

	if (c->role == CONF_ROLE_HOST) {
		/* From a served VM, and not to another one. */
		lookup(p, s, VNET_ETH_ALEN, next, drop);
		lookup(p, s, 0, drop, take);
	} else {
		/* Never from a served MAC (the loop rule) ... */
		lookup(p, s, VNET_ETH_ALEN, drop, next);
		/* ... and to a group address or a served MAC. */
		op(p, BPF_LD | BPF_B | BPF_ABS, 0, 0, 0);
		op(p, BPF_JMP | BPF_JSET | BPF_K, 0, 1, 0x01);
		leaf(p, take);
		lookup(p, s, 0, take, drop);
	}
}

int
filter_program(const struct conf *c, const struct served *s,
    unsigned snaplen, struct bpf_program *bp)
{
	struct prog	 count = { NULL, 0 }, p = { NULL, 0 };
	struct leaf	 any = { 0, 0 };
	size_t		 part2;

	/* The first part's length does not depend on where it leads. */
	lookup(&count, s, VNET_ETH_ALEN, any, any);
	part2 = count.n;
	count.n = 0;
	program(&count, c, s, snaplen, part2);
	if (count.n > KERNEL_MAXINSNS) {
		errno = E2BIG;
		return -1;
	}
	if ((p.insn = calloc(count.n, sizeof(*p.insn))) == NULL)
		return -1;
	program(&p, c, s, snaplen, part2);
	bp->bf_insns = p.insn;
	bp->bf_len = (u_int)p.n;
	return 0;
}
