#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/rtc.h"
#include "vmm/snapfile.h"
#include "vmm/vm.h"

#define RTC_SECONDS	0x00
#define RTC_MINUTES	0x02
#define RTC_HOURS	0x04
#define RTC_WEEKDAY	0x06
#define RTC_DAY		0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d
#define RTC_CENTURY	0x32
#define REG_A_DIVIDER	0x26	/* 32.768 kHz, 1024 Hz; UIP clear */
#define REG_B_24H	0x02	/* 24-hour mode, BCD */
#define REG_D_VRT	0x80	/* valid RAM and time */

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[128];	/* CMOS RAM besides the clock: scratch for the guest */
};

static uint8_t bcd(unsigned v)
{
	return ((v / 10) << 4) | (v % 10);
}

static uint8_t clock_reg(struct rtc *rtc, uint8_t reg)
{
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	switch (reg) {
	case RTC_SECONDS: return bcd(tm.tm_sec);
	case RTC_MINUTES: return bcd(tm.tm_min);
	case RTC_HOURS: return bcd(tm.tm_hour);
	case RTC_WEEKDAY: return bcd(tm.tm_wday + 1);
	case RTC_DAY: return bcd(tm.tm_mday);
	case RTC_MONTH: return bcd(tm.tm_mon + 1);
	case RTC_YEAR: return bcd(tm.tm_year % 100);
	case RTC_CENTURY: return bcd((tm.tm_year + 1900) / 100);
	case RTC_REG_A: return REG_A_DIVIDER;
	case RTC_REG_B: return REG_B_24H;
	case RTC_REG_C: return 0;
	case RTC_REG_D: return REG_D_VRT;
	default: return rtc->ram[reg];
	}
}

static void rtc_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct rtc *rtc = opaque;

	memset(data, 0, len);
	if (off != 1)
		return;
	pthread_mutex_lock(&rtc->lock);
	*(uint8_t *)data = clock_reg(rtc, rtc->index);
	pthread_mutex_unlock(&rtc->lock);
}

static void rtc_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct rtc *rtc = opaque;
	uint8_t v = *(const uint8_t *)data;

	pthread_mutex_lock(&rtc->lock);
	if (off == 0)
		rtc->index = v & 0x7f;	/* bit 7 is the NMI mask */
	else if (rtc->index > RTC_REG_D && rtc->index != RTC_CENTURY)
		rtc->ram[rtc->index] = v;	/* the clock itself is the host's, read-only */
	pthread_mutex_unlock(&rtc->lock);
}

static const struct io_ops rtc_ops = {
	.read = rtc_read,
	.write = rtc_write,
};

int rtc_create(struct vm *vm, const struct rtc_config *cfg, struct rtc **out)
{
	struct rtc *rtc = calloc(1, sizeof(*rtc));
	int ret;

	if (!rtc)
		return -ENOMEM;
	pthread_mutex_init(&rtc->lock, NULL);
	ret = io_bus_register(&vm->pio, cfg->port, 2, &rtc_ops, rtc, "rtc");
	if (ret) {
		rtc_destroy(rtc);
		return ret;
	}
	*out = rtc;
	return 0;
}

void rtc_destroy(struct rtc *rtc)
{
	if (!rtc)
		return;
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}

void rtc_save(struct rtc *rtc, struct snapbuf *b)
{
	uint8_t st[1 + sizeof(rtc->ram)];

	pthread_mutex_lock(&rtc->lock);
	st[0] = rtc->index;
	memcpy(st + 1, rtc->ram, sizeof(rtc->ram));
	pthread_mutex_unlock(&rtc->lock);
	snapbuf_put(b, "dev.rtc", st, sizeof(st));
}

int rtc_restore(struct rtc *rtc, const struct snapreader *r)
{
	uint8_t st[1 + sizeof(rtc->ram)];
	int ret = snapreader_copy(r, "dev.rtc", st, sizeof(st));

	if (ret)
		return ret;
	pthread_mutex_lock(&rtc->lock);
	rtc->index = st[0] & 0x7f;
	memcpy(rtc->ram, st + 1, sizeof(rtc->ram));
	pthread_mutex_unlock(&rtc->lock);
	return 0;
}
