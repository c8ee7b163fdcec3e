/* SPDX-License-Identifier: ISC */
/*
 * capture's own BPF program (capture/bpf.c) against the rule it stands
 * for (filter_wants() in capture/filter.c), run by libpcap's own BPF
 * interpreter and checked by libpcap's validator, for hosts and proxies
 * and MAC sets of every shape.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capture/capture.h"
#include "lib/frame.h"
#include "lib/macset.h"

#define SNAPLEN		65535

static uint64_t	 rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void
rnd_mac(uint8_t *m)
{
	size_t	 i;

	for (i = 0; i < VNET_ETH_ALEN; i++)
		m[i] = (uint8_t)rnd();
	m[0] &= 0xfe;			/* unicast */
}

/* n MACs over nprefix different first two bytes (0: all random). */
static void
make_set(struct served *s, size_t n, size_t nprefix)
{
	size_t	 i;

	s->macs = calloc(n, sizeof(conf_mac));
	assert_non_null(s->macs);
	for (i = 0; i < n; i++) {
		rnd_mac(s->macs[i]);
		if (nprefix > 0) {
			s->macs[i][0] = 0x52;
			s->macs[i][1] = (uint8_t)(i % nprefix);
		}
	}
	s->n = macset_build(s->macs, n);
}

/*
 * Run the program the way the kernel would, for the opcodes it uses,
 * counting the instructions executed. The verdict is checked against
 * libpcap's interpreter by the caller.
 */
static u_int
run(const struct bpf_program *bp, const uint8_t *f, size_t len, int *steps)
{
	const struct bpf_insn *pc = bp->bf_insns;
	uint32_t	 a = 0;

	for (*steps = 1;; pc++, (*steps)++) {
		assert_true(pc >= bp->bf_insns &&
		    pc < bp->bf_insns + bp->bf_len);
		switch (pc->code) {
		case BPF_LD | BPF_B | BPF_ABS:
			if (pc->k + 1 > len)
				return 0;
			a = f[pc->k];
			break;
		case BPF_LD | BPF_H | BPF_ABS:
			if (pc->k + 2 > len)
				return 0;
			a = (uint32_t)f[pc->k] << 8 | f[pc->k + 1];
			break;
		case BPF_LD | BPF_W | BPF_ABS:
			if (pc->k + 4 > len)
				return 0;
			a = (uint32_t)f[pc->k] << 24 |
			    (uint32_t)f[pc->k + 1] << 16 |
			    (uint32_t)f[pc->k + 2] << 8 | f[pc->k + 3];
			break;
		case BPF_JMP | BPF_JA:
			pc += pc->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == pc->k ? pc->jt : pc->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > pc->k ? pc->jt : pc->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & pc->k) ? pc->jt : pc->jf;
			break;
		case BPF_RET | BPF_K:
			return pc->k;
		default:
			fail_msg("unexpected opcode %#x", pc->code);
		}
	}
}

struct check {
	struct conf	 conf;
	struct served	 s;
	struct bpf_program bp;
	int		 maxsteps;
	size_t		 taken;
};

static void
check_frame(struct check *k, const uint8_t *dst, const uint8_t *src)
{
	uint8_t		 f[60];
	struct pcap_pkthdr h;
	u_int		 verdict, mine;
	int		 want, steps;

	memset(f, 0, sizeof(f));
	memcpy(f, dst, VNET_ETH_ALEN);
	memcpy(f + VNET_ETH_ALEN, src, VNET_ETH_ALEN);
	f[12] = 0x08;
	memset(&h, 0, sizeof(h));
	h.caplen = h.len = sizeof(f);
	verdict = (u_int)pcap_offline_filter(&k->bp, &h, f);
	mine = run(&k->bp, f, sizeof(f), &steps);
	want = filter_wants(&k->conf, &k->s, f, sizeof(f));
	assert_int_equal(verdict, mine);
	assert_int_equal(verdict, want ? SNAPLEN : 0);
	if (steps > k->maxsteps)
		k->maxsteps = steps;
	k->taken += want != 0;
}

/* MACs near m: the same, one below and above, another vendor part. */
static void
near(const uint8_t *m, uint8_t out[4][VNET_ETH_ALEN])
{
	int	 i;

	for (i = 0; i < 4; i++)
		memcpy(out[i], m, VNET_ETH_ALEN);
	out[1][5]--;
	out[2][5]++;
	out[3][1] ^= 0x80;
}

/* Every served MAC and its neighbours, as source and as destination. */
static void
check_set(struct check *k)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	uint8_t		 a[4][VNET_ETH_ALEN], b[4][VNET_ETH_ALEN], r[6];
	size_t		 i;
	int		 x, y;

	for (i = 0; i < k->s.n; i++) {
		near(k->s.macs[i], a);
		near(k->s.macs[rnd() % k->s.n], b);
		for (x = 0; x < 4; x++)
			for (y = 0; y < 4; y++) {
				check_frame(k, a[x], b[y]);
				check_frame(k, b[y], a[x]);
			}
		rnd_mac(r);
		check_frame(k, bcast, a[0]);
		check_frame(k, bcast, r);
		check_frame(k, mcast, r);
		check_frame(k, r, a[0]);
		check_frame(k, a[0], r);
	}
	for (i = 0; i < 2000; i++) {
		rnd_mac(a[0]);
		rnd_mac(b[0]);
		check_frame(k, a[0], b[0]);
	}
}

static void
check_role(enum conf_role role, size_t n, size_t nprefix, int maxsteps)
{
	struct check	 k;

	memset(&k, 0, sizeof(k));
	k.conf.role = role;
	make_set(&k.s, n, nprefix);
	assert_int_equal(filter_program(&k.conf, &k.s, SNAPLEN, &k.bp), 0);
	/* libpcap's validator accepts it, as pcap_setfilter() would. */
	assert_true(bpf_validate(k.bp.bf_insns, (int)k.bp.bf_len));
	check_set(&k);
	assert_true(k.taken > 0);
	assert_true(k.maxsteps <= maxsteps);
	free(k.bp.bf_insns);
	free(k.s.macs);
}

static void
test_small_sets(void **state)
{
	size_t	 n;

	(void)state;
	for (n = 1; n <= 20; n++) {
		check_role(CONF_ROLE_HOST, n, 1, 60);
		check_role(CONF_ROLE_PROXY, n, 1, 60);
		check_role(CONF_ROLE_HOST, n, 0, 120);
		check_role(CONF_ROLE_PROXY, n, 0, 120);
	}
}

/* 1000 MACs of one vendor: a frame costs tens of instructions. */
static void
test_thousand(void **state)
{
	(void)state;
	check_role(CONF_ROLE_PROXY, 1000, 1, 64);
	check_role(CONF_ROLE_HOST, 1000, 1, 64);
}

static void
test_many_prefixes(void **state)
{
	(void)state;
	check_role(CONF_ROLE_PROXY, 1000, 40, 200);
	check_role(CONF_ROLE_HOST, 300, 300, 1300);
}

/* Too many vendor parts for the kernel's limit: refused, not cut. */
static void
test_too_long(void **state)
{
	struct conf	 c;
	struct served	 s;
	struct bpf_program bp;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.role = CONF_ROLE_PROXY;
	make_set(&s, 2000, 0);
	errno = 0;
	assert_int_equal(filter_program(&c, &s, SNAPLEN, &bp), -1);
	assert_int_equal(errno, E2BIG);
	free(s.macs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_sets),
		cmocka_unit_test(test_thousand),
		cmocka_unit_test(test_many_prefixes),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
