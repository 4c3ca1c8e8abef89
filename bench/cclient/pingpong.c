/*
 * W1 ping-pong from a C client: one session, 64 bytes written, the same 64
 * bytes read back, ROUNDS times after a warm-up. It takes Go's scheduler out
 * of the client side, so that what differs between runs is the server.
 *
 * usage: pingpong PATH ROUNDS
 * prints: roundtrips/s R p50-us P p99-us Q
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static long long now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* round writes one message and reads its echo whole; -1 on any failure. */
static int round_trip(int fd, const char *msg, char *in) {
	ssize_t n;
	size_t got = 0;
	do {
		n = write(fd, msg, MSG);
	} while (n < 0 && errno == EINTR);
	if (n != MSG)
		return -1;
	while (got < MSG) {
		n = read(fd, in + got, MSG - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return memcmp(msg, in, MSG) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: %s PATH ROUNDS\n", argv[0]);
		return 2;
	}
	long rounds = strtol(argv[2], NULL, 10);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (rounds <= 0 || strlen(argv[1]) >= sizeof sa.sun_path) {
		fprintf(stderr, "pingpong: bad path or round count\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		perror("pingpong: connect");
		return 1;
	}
	char msg[MSG], in[MSG];
	for (int i = 0; i < MSG; i++)
		msg[i] = (char)i;
	long warm = rounds / 10 < 10000 ? rounds / 10 : 10000;
	for (long i = 0; i < warm; i++)
		if (round_trip(fd, msg, in) != 0) {
			fprintf(stderr, "pingpong: warm-up round %ld failed\n", i);
			return 1;
		}
	long long *lat = malloc(sizeof *lat * (size_t)rounds);
	if (lat == NULL)
		return 1;
	long long start = now_ns();
	for (long i = 0; i < rounds; i++) {
		long long t0 = now_ns();
		if (round_trip(fd, msg, in) != 0) {
			fprintf(stderr, "pingpong: round %ld failed\n", i);
			return 1;
		}
		lat[i] = now_ns() - t0;
	}
	double secs = (double)(now_ns() - start) / 1e9;
	qsort(lat, (size_t)rounds, sizeof *lat, cmp);
	printf("roundtrips/s %.1f p50-us %.3f p99-us %.3f\n", (double)rounds / secs,
	       (double)lat[rounds / 2] / 1e3, (double)lat[rounds * 99 / 100] / 1e3);
	close(fd);
	return 0;
}
