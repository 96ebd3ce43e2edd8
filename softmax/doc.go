// Package softmax implements the linear classifiers of the reference
// notebooks: a softmax (cross-entropy) classifier and a multiclass SVM
// (hinge loss, margin 1), both with an L2 regulariser reg·ΣW², trained by
// mini-batch gradient descent with batches drawn exactly like numpy's
// reference (np.random.choice through nprand).
//
// Shapes: W is D×C (D features including any bias column, C classes), X is
// N×D with one example per row, y holds N labels in [0, C).
//
//	clf := softmax.NewSoftmax[float32]()
//	hist, err := clf.Train(X, y, softmax.TrainConfig{
//		LearningRate: 1e-7, Reg: 2.5e4, NumIters: 1500, BatchSize: 200,
//	}, nprand.New(0))
//	pred := clf.Predict(Xval)
//
// The loss functions come in two reference forms with one signature:
// LossNaive / SVMLossNaive (explicit loops, everything accumulated in
// float64: the oracle) and LossVectorized / SVMLossVectorized (the matrix
// formulation: products with blas.Gemm in T, per-row softmax and the loss in
// float64). Both return the mean loss plus the regulariser and the gradient
// with respect to W (the regulariser's gradient is 2·reg·W). They panic on
// shape errors, naming the arguments and their shapes; the trainers return
// errors instead.
//
// Training runs package train's loop: Train and TrainSource are thin
// wrappers, and TrainModel returns the classifier as a train.Model for
// train.Run (with its observers, a context and a resumable train.State).
// TrainConfig.Update names the update rule, as the course's optim.py
// defines them: "sgd" (the default, W -= LearningRate·dW), "momentum",
// "rmsprop" or "adam". Load reads a softmax or svm model file (the
// model.npz `nnkern train` writes) into a classifier in T; FromFile does
// the same for a model.File, which also holds the mean image that
// prepares rows as in training.
package softmax
