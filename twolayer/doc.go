// Package twolayer is the reference notebooks' two-layer fully connected
// network: affine – ReLU – affine, a softmax cross-entropy loss with an L2
// regulariser reg·(ΣW1² + ΣW2²) (biases not regularised), trained by
// mini-batch gradient descent with a per-epoch learning-rate decay, drawing
// its weights and batches from nprand exactly as numpy's reference does.
//
// Shapes: X is N×D (one example per row), W1 is D×H, B1 has H entries,
// W2 is H×C, B2 has C entries, labels are in [0, C).
//
//	rng := nprand.New(0)
//	net := twolayer.New[float32](3072, 50, 10, 1e-4, rng)
//	stats, err := net.Train(Xtrain, ytrain, Xval, yval, twolayer.TrainConfig{
//		LearningRate: 1e-4, LearningRateDecay: 0.95, Reg: 0.25,
//		NumIters: 1000, BatchSize: 200,
//	}, rng)
//	pred := net.Predict(Xtest)
//
// LossNaive (explicit loops, float64 throughout: the oracle) and
// LossVectorized (the matrix formulation with blas.Gemm in T, softmax and
// loss in float64) are the references; Loss is what training calls. The
// loss functions panic on shape errors, naming arguments and shapes; Train
// returns errors.
//
// Training runs package train's loop: Train and TrainSource are thin
// wrappers, and TrainModel returns the net as a train.Model for train.Run
// (with its observers, a context and a resumable train.State).
// TrainConfig.Update names the update rule, as the course's optim.py
// defines them: "sgd" (the default, W -= LearningRate·dW), "momentum",
// "rmsprop" or "adam", applied to every weight and bias. Load reads a
// twolayer model file (the model.npz `nnkern train` writes) into a Net in
// T; FromFile does the same for a model.File, which also holds the mean
// image that prepares rows as in training.
package twolayer
