// Package train is the training loop both nnkern models share: the
// mini-batch Source a model reads rows from, the Config and its checks,
// batch sampling with the reference's random stream, the learning-rate
// schedule, the update rules, the State that makes a run resumable bit for
// bit, and Run, the loop itself, which a model drives through the small
// Model interface. Progress, metrics, checkpoints and cancellation are
// Observers of the loop and a context.Context, not copies of it.
//
// softmax.LinearClassifier and twolayer.Net train through it (their Train
// methods are thin wrappers); to drive it directly:
//
//	m := net.TrainModel() // or clf.TrainModel()
//	cfg := train.Config{LearningRate: 1e-3, LearningRateDecay: 0.95, Reg: 0.05,
//		NumIters: 2000, BatchSize: 200, Update: "adam"}
//	st := train.NewState[float32](cfg, src.Rows(), nprand.New(0))
//	err := train.Run(ctx, m, train.Data[float32]{X: src, Y: y, Val: val, YVal: yval}, cfg, st,
//		train.Log(os.Stderr, cfg.NumIters),
//		train.EpochFunc(func(e train.Epoch) error { fmt.Println(e.It, e.ValAcc); return nil }))
//
// To stop and continue later, save the model's parameters, st.Iteration,
// st.LearningRate, st.RNG (MarshalBinary), st.Steps() and the contents of
// st.Buffers(m.Params()); restore them into a fresh State (after
// st.Init(cfg.Update, m.Params())) and call Run again: the result is the
// uninterrupted run's, bit for bit.
//
// The update rules (NewUpdate, Update, Rules) are how one gradient step
// changes a parameter, as the course's optim.py defines them: sgd (the
// default), momentum, rmsprop and adam, with optim.py's default
// hyperparameters, applied to the gradient that already includes the
// regulariser. Run makes one per parameter (State.Init).
//
// An Update is made for one parameter of n elements and keeps that
// parameter's state (velocity, cache, moments, step count):
//
//	u, err := train.NewUpdate[float32]("adam", len(w))
//	if err != nil { ... }
//	for range iters {
//		grad(g, w)       // g = dLoss/dw, regulariser included
//		u.Step(w, g, lr) // w changes in place
//		lr *= decay      // the learning rate and its schedule stay the caller's
//	}
//
// A checkpoint saves u.Steps() and a copy of every u.Buffers()[i].Data;
// resuming creates a fresh Update, copies the buffers back into its
// Buffers() and calls SetSteps: the run continues bit for bit as if it
// had not stopped.
//
// Every rule computes in T, each product rounded on its own (T(a*b) +
// T(c*d): no fused multiply-add), constants converted to T once, and the
// square root correctly rounded, so a step gives the same bits on every
// CPU and ISA level. A step is one pass of a kernel of package kernels
// (Axpy for sgd; MomentumStep, RMSPropStep, AdamStep), whose AVX2 and
// AVX-512 versions compute those operations lane by lane.
package train
