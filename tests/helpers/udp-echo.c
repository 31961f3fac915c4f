/*
 * udp-echo PORT: answer every datagram on UDP port PORT with the same bytes
 * prefixed by "echo:". A static helper the network tests copy into busybox
 * containers (busybox's nc has no UDP mode in Debian's build).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char buf[2048];
	int s;

	if (argc != 2)
		return 2;
	sa.sin_port = htons(atoi(argv[1]));
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 1;
	memcpy(buf, "echo:", 5);
	for (;;) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(s, buf + 5, sizeof(buf) - 5, 0, (struct sockaddr *)&from, &len);

		if (n >= 0)
			sendto(s, buf, n + 5, 0, (struct sockaddr *)&from, len);
	}
}
