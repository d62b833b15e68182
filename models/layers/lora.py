"""LoRA (low-rank adaptation) of a layer's kernel, with Keras's semantics.

`LoraKernel` is mixed into a layer whose kernel variable is ``self._kernel``
with the output dimension last (Keras's ``Dense``/``Conv`` layout). Read
``keras/src/layers/convolutional/base_conv.py``: the same weight names,
shapes, dtypes, saving and config, so checkpoints and configs cross over.
"""

from __future__ import annotations

import keras
from keras import ops

from common.validation import check_positive_int


def _lora_alpha(lora_alpha, rank):
    """``lora_alpha``, checked to be a number; ``None`` means ``rank``, as in Keras."""
    if lora_alpha is None:
        return rank
    if isinstance(lora_alpha, bool) or not isinstance(lora_alpha, (int, float)):
        raise ValueError(
            "Invalid value for argument `lora_alpha`. Expected a number or None "
            f"(None means lora_rank). Received lora_alpha={lora_alpha!r}."
        )
    return lora_alpha


class LoraKernel:
    """Mixin: ``kernel = W + (lora_alpha / lora_rank) * (A @ B)`` once LoRA is on.

    ``W`` (``self._kernel``) is frozen; ``A`` (``lora_kernel_a``, shape
    ``(*W.shape[:-1], rank)``) and ``B`` (``lora_kernel_b``, shape
    ``(rank, W.shape[-1])``) are trainable and kept in float32. ``B`` starts at
    zero, so enabling LoRA leaves the outputs unchanged.

    The host layer calls `_init_lora` in its constructor and `_build_lora` at
    the end of ``build``, stores its kernel variable as ``self._kernel``, and
    adds `_lora_config` to its config.
    """

    def _init_lora(self, lora_rank, lora_alpha):
        if lora_rank is not None:
            lora_rank = check_positive_int("lora_rank", lora_rank)
        self.lora_rank = lora_rank
        self.lora_alpha = _lora_alpha(lora_alpha, lora_rank)
        self.lora_enabled = False

    def _build_lora(self):
        if self.lora_rank:
            self.enable_lora(self.lora_rank, lora_alpha=self.lora_alpha)

    @property
    def kernel(self):
        """The effective kernel: ``W``, plus the scaled low-rank delta when LoRA is on."""
        if not self.built:
            raise AttributeError(
                f"Layer {self.name!r} has no `kernel` yet: build it (or call it on an "
                "input) before accessing `kernel`."
            )
        kernel = self._kernel
        if self.lora_enabled:
            delta = ops.matmul(self.lora_kernel_a, self.lora_kernel_b)
            kernel = ops.cast(
                ops.add(kernel, (self.lora_alpha / self.lora_rank) * delta),
                dtype=self.compute_dtype,
            )
        return kernel

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"):
        """Freezes the kernel and adds the trainable low-rank factors ``A`` and ``B``.

        Args:
            rank: LoRA rank ``r >= 1``.
            lora_alpha: Scale numerator; the delta is scaled by
                ``lora_alpha / rank``. ``None`` means ``rank``.
            a_initializer: Initializer of ``lora_kernel_a``.
            b_initializer: Initializer of ``lora_kernel_b`` (zeros: no change at first).

        Raises:
            ValueError: If the layer has a kernel constraint, is not built, or
                already has LoRA enabled, ``rank`` is not a positive integer or
                ``lora_alpha`` not a number.
        """
        rank = check_positive_int("rank", rank)
        lora_alpha = _lora_alpha(lora_alpha, rank)
        if self.kernel_constraint:
            raise ValueError(
                f"Layer {self.name!r}: LoRA is incompatible with kernel constraints. "
                "Remove the `kernel_constraint` argument to enable LoRA. Received "
                f"kernel_constraint={self.kernel_constraint!r}."
            )
        if not self.built:
            raise ValueError(
                f"Layer {self.name!r} is not built: build it (or call it on an input) "
                f"before `enable_lora({rank})`, or pass `lora_rank={rank}` to the constructor."
            )
        if self.lora_enabled:
            raise ValueError(
                f"Layer {self.name!r} already has LoRA enabled (lora_rank="
                f"{self.lora_rank}); it can be enabled once per layer. Received rank={rank}."
            )
        self._tracker.unlock()
        # float32 factors avoid underflow/overflow in fine-tuning (as Keras);
        # merged into the kernel's dtype for deployment.
        self.lora_kernel_a = self.add_weight(
            name="lora_kernel_a",
            shape=(*self._kernel.shape[:-1], rank),
            initializer=keras.initializers.get(a_initializer),
            dtype="float32",
            regularizer=self.kernel_regularizer,
        )
        self.lora_kernel_b = self.add_weight(
            name="lora_kernel_b",
            shape=(rank, self._kernel.shape[-1]),
            initializer=keras.initializers.get(b_initializer),
            dtype="float32",
            regularizer=self.kernel_regularizer,
        )
        self._kernel.trainable = False
        self._tracker.lock()
        self.lora_enabled = True
        self.lora_rank = rank
        self.lora_alpha = lora_alpha

    def _own_variables(self, kernel):
        return [kernel, self.bias] if self.use_bias else [kernel]

    def save_own_variables(self, store):
        """Saves the effective (merged) kernel and the bias, as Keras does.

        Args:
            store: Dict the layer's state is saved into.
        """
        if not self.built:
            return
        for index, variable in enumerate(self._own_variables(self.kernel)):
            store[str(index)] = variable

    def load_own_variables(self, store):
        """Loads a merged kernel and the bias; LoRA factors restart at zero.

        Args:
            store: Dict the layer's state is loaded from.
        """
        if not self.lora_enabled:
            self._check_load_own_variables(store)
        if not self.built:
            return
        for index, variable in enumerate(self._own_variables(self._kernel)):
            variable.assign(store[str(index)])
        if self.lora_enabled:
            self.lora_kernel_a.assign(ops.zeros(self.lora_kernel_a.shape))
            self.lora_kernel_b.assign(ops.zeros(self.lora_kernel_b.shape))

    def _lora_config(self):
        if not self.lora_rank:
            return {}
        return {"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha}
