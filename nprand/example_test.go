package nprand_test

import (
	"fmt"

	"github.com/nnkern/nnkern/nprand"
)

// The same numbers numpy gives after np.random.seed(0).
func Example() {
	rng := nprand.New(0)
	fmt.Println(rng.RandomSample()) // np.random.random_sample()
	rng.Seed(0)
	fmt.Println(rng.Randn(3)) // np.random.randn(3)
	rng.Seed(0)
	fmt.Println(rng.Choice(5, 12, true)) // np.random.choice(5, 12)
	rng.Seed(0)
	fmt.Println(rng.Permutation(10)) // np.random.permutation(10)
	// Output:
	// 0.5488135039273248
	// [1.764052345967664 0.4001572083672233 0.9787379841057392]
	// [4 0 3 3 3 1 3 2 4 0 0 4]
	// [2 8 4 9 1 6 7 3 0 5]
}

// Saving and restoring the generator (for checkpoints) keeps the stream,
// including a cached gaussian.
func ExampleRandomState_MarshalBinary() {
	rng := nprand.New(42)
	rng.StandardNormal() // the second gaussian of the pair is now cached
	state, _ := rng.MarshalBinary()
	var restored nprand.RandomState
	if err := restored.UnmarshalBinary(state); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rng.StandardNormal() == restored.StandardNormal(), rng.Randint(0, 100) == restored.Randint(0, 100))
	// Output: true true
}
