/* MC146818 CMOS RTC: gives the guest the host's wall-clock time at boot. */
#ifndef VMM_DEVICES_RTC_H
#define VMM_DEVICES_RTC_H

struct vm;
struct rtc;

struct rtc_config {
	unsigned port;		/* index port; data at port + 1 (0x70) */
};

int rtc_create(struct vm *vm, const struct rtc_config *cfg, struct rtc **out);
void rtc_destroy(struct rtc *rtc);

struct snapbuf;
struct snapreader;
void rtc_save(struct rtc *rtc, struct snapbuf *b);
int rtc_restore(struct rtc *rtc, const struct snapreader *r);

#endif
