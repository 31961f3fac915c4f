/* Output helpers shared by the image commands: docker's names, times and sizes. */
#ifndef VMM_CLI_IMAGE_FMT_H
#define VMM_CLI_IMAGE_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct store;

/* Open the store of cli->paths.root; prints why and returns NULL on failure. */
struct store *cli_store_open(const char *root);

/* "busybox:latest" for "docker.io/library/busybox:latest" (the input when it is no reference). */
void fmt_short_ref(const char *full, char *buf, size_t len);
/* Split a full reference into short repository and tag ("<none>" when none). */
void fmt_repo_tag(const char *full, char *repo, size_t rlen, char *tag, size_t tlen);

/* "2 weeks ago", "N/A" for 0. */
void fmt_since(int64_t created, char *buf, size_t len);
/* "2024-01-02 03:04:05 +0100 CET" as docker's CreatedAt (Go's time.String(), local time). */
void fmt_created_at(int64_t created, char *buf, size_t len);

/* docker's progress line for a layer: "\rID: VERB [=====>    ] 1.2MB/3.4MB", redrawn in place. */
void fmt_progress_bar(FILE *f, const char *id, const char *verb, uint64_t done, uint64_t total);

#endif
