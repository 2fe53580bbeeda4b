"""The plain MLP in JAX (the oracle's worked example; docs/oracle.md, "mlp").

    h_0 = x,  h_l = phi(h_{l-1} W_l + b_l) (phi = tanh or relu),  z = h_{L-1} W_L + b_L
    cross_entropy = -mean_i log softmax(z_i)[y_i],   l2 = (l2/2) sum_l ||W_l||_F^2,   total = cross_entropy + l2
Training: Adam (Kingma & Ba, Algorithm 1) on every W and b.
"""

from minidsn_jax.mlp.net import forward, loss_and_grads, loss_terms  # noqa: F401
