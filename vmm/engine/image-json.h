/* Images as docker shows them in JSON (image inspect), for the CLI and the API. */
#ifndef VMM_ENGINE_IMAGE_JSON_H
#define VMM_ENGINE_IMAGE_JSON_H

#include <json-c/json.h>

struct image;

/* Id, RepoTags, RepoDigests, Created, Config, Architecture, Os, Size, RootFS, Descriptor. */
json_object *image_to_json(const struct image *img);
/* docker history's rows, newest first: Id (the image ID on the newest, else "<missing>"), Created
 * (unix seconds), CreatedBy, Tags (on the newest), Size, Comment. */
json_object *image_history_json(const struct image *img);

#endif
