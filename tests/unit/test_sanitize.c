/* Text from guests, images and registries on a terminal: no escape sequence gets through. */
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/base/util.h"

static void expect(const char *in, bool one_line, const char *want)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", in);
	str_sanitize(buf, one_line);
	ok(!strcmp(buf, want), "sanitized to '%s' (got '%s')", want, buf);
}

int main(void)
{
	expect("plain text", false, "plain text");
	expect("\x1b[2J\x1b]0;owned\x07title", false, "?[2J?]0;owned?title");	/* ESC, BEL */
	expect("a\tb\nc", true, "a b c");
	expect("a\tb\nc", false, "a\tb\nc");
	expect("del\x7f", false, "del?");
	expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", false, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");	/* UTF-8 stays */
	expect("c1 \xc2\x9b" "31m", false, "c1 ??31m");		/* U+009B, the 8-bit CSI */
	expect("raw \x9b" "31m", false, "raw ?31m");		/* an 8-bit CSI byte, not UTF-8 */
	expect("over \xc0\xaf long", false, "over ?? long");	/* an overlong '/' */
	expect("cut \xe2\x82", false, "cut ??");			/* a sequence cut short */
	expect("\r\x1b", true, " ?");
	return tap_done();
}
