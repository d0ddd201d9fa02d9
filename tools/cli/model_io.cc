#include "tools/cli/model_io.h"

#include <vector>

#include "absl/strings/string_view.h"
#include "plugin/host/pending_file.h"
#include "plugin/host/torch_save.h"
#include "plugin/status.h"

namespace featx::cli {

absl::Status SavePickle(const std::string& path, const c10::IValue& value) {
  FEATX_ASSIGN_OR_RETURN(std::vector<char> bytes, TorchCall([&] { return TorchSave(value); }));
  FEATX_ASSIGN_OR_RETURN(PendingFile file, PendingFile::Create(path));
  FEATX_RETURN_IF_ERROR(file.Write(absl::string_view(bytes.data(), bytes.size())));
  return file.Commit();
}

}  // namespace featx::cli
