"""The networks: the only package that imports TensorFlow (Keras)."""
