/* featx's C entry points, for hosts that dlopen libfeatx.so (plugin/featx.h
 * is the C++ API; this is the same for a host that cannot link featx).
 *
 *   void* lib = dlopen("libfeatx.so", RTLD_NOW | RTLD_GLOBAL);
 *   auto instrument = (featx_instrument_fn)dlsym(lib, "featx_instrument");
 *   char error[1024];
 *   if (instrument(&module, "--featx_mode=tap --featx_return_nodes=layer1", error, sizeof error) != 0)
 *     fprintf(stderr, "featx: %s\n", error);   // the module is unchanged
 *
 * No function lets a C++ exception out. Each returns 0 on success or an
 * absl::StatusCode (3 = InvalidArgument, 9 = FailedPrecondition, ...) with a
 * NUL-terminated message in `error` (cut to `error_size`).
 */
#ifndef FEATX_PLUGIN_C_API_H_
#define FEATX_PLUGIN_C_API_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rewrites `module` (a torch::jit::Module*) in place as the flags say:
 * FEATX_FLAGS, then `flags` (may be NULL; a host passes the --featx_* flags
 * of its own command line here); also installs the sinks they name. The
 * rewrite is featx's load-time pipeline, or the passes --featx_passes names.
 * On error the module is unchanged. */
int featx_instrument(void* module, const char* flags, char* error, size_t error_size);
typedef int (*featx_instrument_fn)(void*, const char*, char*, size_t);

/* Exported programs (torch.export's .pt2 archives, docs/export.md), by path;
 * a featx built against torch 1.13 answers 9 (FailedPrecondition). Flags as
 * featx_instrument's; a program takes --featx_leaf_modules, and to rewrite,
 * --featx_return_nodes and --featx_mode=dict or tuple.
 *
 * The program's node names, one per line, like snprintf into `names`; the
 * whole text's length goes to `*length` (may be NULL). */
int featx_program_node_names(const char* path, const char* flags, char* names, size_t size, size_t* length, char* error,
                             size_t error_size);
typedef int (*featx_program_node_names_fn)(const char*, const char*, char*, size_t, size_t*, char*, size_t);

/* Writes the program at `path`, rewritten to also return the chosen nodes,
 * to `output`: whole or not at all. */
int featx_rewrite_program(const char* path, const char* output, const char* flags, char* error, size_t error_size);
typedef int (*featx_rewrite_program_fn)(const char*, const char*, const char*, char*, size_t);

/* The registered passes' names (plugin/pipeline/pass_registry.h), comma-separated in
 * load-time order: the form --featx_passes takes. Like snprintf: writes at
 * most `size` bytes (NUL included) and returns the full list's length. */
size_t featx_list_passes(char* names, size_t size);
typedef size_t (*featx_list_passes_fn)(char*, size_t);

/* Every --featx_* flag with its help and default, one a line, in abseil's
 * --helpfull form, for a host's usage text. Like snprintf, as above. */
size_t featx_flags_help(char* text, size_t size);
typedef size_t (*featx_flags_help_fn)(char*, size_t);

/* Opens a capture on the calling thread (as featx::capture_begin()). */
int featx_capture_begin(char* error, size_t error_size);
typedef int (*featx_capture_begin_fn)(char*, size_t);

/* Closes it; `activations` (a c10::Dict<std::string, at::Tensor>*, may be
 * NULL) receives what the taps recorded. */
int featx_capture_end(void* activations, char* error, size_t error_size);
typedef int (*featx_capture_end_fn)(void*, char*, size_t);

/* Sends featx's messages (train/eval differences, sink logs) to `callback`
 * instead of TORCH_WARN; NULL goes back. level: 0 info, 1 warning. */
typedef void (*featx_log_callback)(int level, const char* message, void* user_data);
void featx_set_log_callback(featx_log_callback callback, void* user_data);
typedef void (*featx_set_log_callback_fn)(featx_log_callback, void*);

/* "featx-version=0.1.0;featx-built-against-torch=2.15.0;": featx's version
 * and the libtorch this library was built against. That must be the host's:
 * a plugin built for another libtorch loads a second one into the process,
 * which crashes there. Read it from the file without loading
 * (tools/libtorch_check.py --plugin). */
extern const char featx_build_info[];

#ifdef __cplusplus
}
#endif

#endif /* FEATX_PLUGIN_C_API_H_ */
