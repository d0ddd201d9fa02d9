"""featx in TorchServe: a mixin for any TorchScript handler, stock or yours.

With featx installed in the server's environment (pip install), your
handler file (the archive's --handler) is, whole:

    from ts.torch_handler.image_classifier import ImageClassifier
    from featx.torchserve import FeatxHandlerMixin

    class Handler(FeatxHandlerMixin, ImageClassifier):
        pass

featx is then enabled by configuration only, the model's own
model-config.yaml

    featx:
      flags: --featx_mode=tap --featx_return_nodes=layer4,fc:logits --featx_spool_dir=/var/featx
      return_activations: false                 # true: each answer becomes
                                                #  {"output": ..., "featx": {name: values}}

or the worker's environment (FEATX_FLAGS) when the model config has no
`featx` section. With neither, the handler is the stock one. The model's
flags apply over FEATX_FLAGS, as everywhere in featx (later wins). Answers
carrying activations are JSON: keep them under TorchServe's
max_response_size (config.properties, 6.5 MB by default; a 64x112x112 map is
16 MB), or the frontend drops the connection and reports "Worker died.".

At load the model is rewritten in memory right after torch.jit.load (a bad
flag or node fails the model's load with featx's message in the model log,
and the server serves its other models); featx's warnings (the train/eval
graph difference) go to the `featx` logger, i.e. TorchServe's model log.
"""
import difflib
import logging
import os

import featx

logger = logging.getLogger("featx")
_KEYS = ("flags", "return_activations")


class FeatxHandlerMixin:
    featx_manifest = None
    featx_return_activations = False

    def featx_config(self):
        """The `featx` section of model-config.yaml, else the environment."""
        section = (getattr(self, "model_yaml_config", None) or {}).get("featx")
        if section is not None:
            if not isinstance(section, dict) or not isinstance(section.get("flags", ""), str):
                raise ValueError("featx: model-config.yaml's `featx` must be a mapping with `flags` as one string, "
                                 f"got {section!r}")
            for key in section:
                if key not in _KEYS:
                    close = difflib.get_close_matches(str(key), _KEYS, n=1)
                    hint = f"; did you mean `{close[0]}`?" if close else f"; it takes {', '.join(_KEYS)}"
                    if key == "plugin":
                        hint = ("; featx carries its plugin (FEATX_PLUGIN in the worker's environment names "
                                "another)")
                    raise ValueError(f"featx: model-config.yaml's `featx` has an unknown key `{key}`{hint}")
            return section
        if "FEATX_FLAGS" in os.environ:
            return {"flags": os.environ["FEATX_FLAGS"]}
        return None

    def _load_torchscript_model(self, model_pt_path):
        config = self.featx_config()
        if config is None:
            return super()._load_torchscript_model(model_pt_path)
        with featx.warnings_to(logger):
            model = featx.load(model_pt_path, config.get("flags", ""), map_location=self.device)
        self.featx_manifest = featx.manifest(model)
        names = ", ".join(e["name"] for e in self.featx_manifest["eval"])
        logger.info("featx: %s rewritten (mode %s): %s", os.path.basename(model_pt_path),
                    self.featx_manifest["mode"], names)
        self.featx_return_activations = bool(config.get("return_activations", False))
        if self.featx_return_activations and self.featx_manifest["mode"] != "tap":
            raise ValueError("featx: return_activations needs --featx_mode=tap (the model's answer stays its own); "
                             f"this model is rewritten in mode {self.featx_manifest['mode']}")
        return model

    def inference(self, data, *args, **kwargs):
        if not self.featx_return_activations:
            return super().inference(data, *args, **kwargs)
        with featx.capture() as activations:
            results = super().inference(data, *args, **kwargs)
        self.featx_activations(activations)
        return results

    def featx_activations(self, activations):
        """This batch's activations ({name: Tensor}, batch first); override to
        send them elsewhere. By default they join each answer."""
        self._featx_batch = activations

    def postprocess(self, data):
        answers = super().postprocess(data)
        batch = getattr(self, "_featx_batch", None)
        if batch is None:
            return answers
        self._featx_batch = None
        return [{"output": answer, "featx": {name: value[i].tolist() for name, value in batch.items()}}
                for i, answer in enumerate(answers)]
