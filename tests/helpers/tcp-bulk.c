/*
 * tcp-bulk: one bulk TCP stream for tests/bench/net.sh, run inside the guest.
 * busybox nc moves 1 KiB per system call, which on a host that emulates the
 * guest kernel measures nc's system calls rather than the network path.
 *   tcp-bulk recv PORT             accept one connection, read to EOF, print the bytes
 *   tcp-bulk send ADDR PORT BYTES  connect, write BYTES zeros, shut down, wait for EOF
 * IPv4 addresses only (no resolver in a static binary).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF	(256 * 1024)

static char buf[BUF];

static int usage(void)
{
	fprintf(stderr, "usage: tcp-bulk recv PORT | tcp-bulk send ADDR PORT BYTES\n");
	return 2;
}

static long long drain(int fd)
{
	long long total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	return n < 0 ? -1 : total;
}

static int do_recv(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), c;
	long long got;

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0) {
		perror("tcp-bulk: listen");
		return 1;
	}
	c = accept(l, NULL, NULL);
	if (c < 0) {
		perror("tcp-bulk: accept");
		return 1;
	}
	got = drain(c);
	if (got < 0) {
		perror("tcp-bulk: read");
		return 1;
	}
	printf("%lld\n", got);
	fflush(stdout);
	close(c);
	return 0;
}

static int do_send(const char *addr, int port, long long bytes)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "tcp-bulk: '%s' is not an IPv4 address\n", addr);
		return 2;
	}
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("tcp-bulk: connect");
		return 1;
	}
	while (bytes > 0) {
		ssize_t n = write(s, buf, bytes < BUF ? (size_t)bytes : BUF);

		if (n < 0) {
			perror("tcp-bulk: write");
			return 1;
		}
		bytes -= n;
	}
	shutdown(s, SHUT_WR);
	return drain(s) < 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), atoll(argv[4]));
	return usage();
}
