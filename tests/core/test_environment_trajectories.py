import jax
import numpy as np
import pytest

from gridform import Box, MotionModel, simulate_trajectories


def test_box_validates_sizes():
    with pytest.raises(ValueError, match="width"):
        Box(-1.0, 2.0)
    with pytest.raises(ValueError, match="height"):
        Box(2.0, 0.0)
    with pytest.raises(ValueError, match="boundary"):
        Box(2.0, 2.0, "sphere")
    with pytest.raises(TypeError, match="width"):
        Box("2", 2.0)


def test_periodic_displacement_is_shortest_and_wrap_is_idempotent():
    box = Box(2.0, 1.0, "periodic")
    a = np.array([[0.95, 0.45]])
    b = np.array([[-0.95, -0.45]])
    d = np.asarray(box.displacement(a, b))
    np.testing.assert_allclose(d, [[-0.1, -0.1]], atol=1e-6)
    p = np.array([[1.3, -0.7], [-2.9, 0.2]])
    w = np.asarray(box.wrap(p))
    np.testing.assert_allclose(np.asarray(box.wrap(w)), w, atol=1e-6)
    assert box.contains(w).all()


@pytest.mark.parametrize("boundary", ["walls", "periodic"])
def test_path_integration_identity(boundary):
    box = Box(2.2, 1.6, boundary)
    traj = simulate_trajectories(jax.random.key(3), box, 64, 200)
    unwrapped = np.asarray(traj.unwrapped_positions)
    pos = np.asarray(traj.positions)
    np.testing.assert_allclose(np.asarray(box.wrap(unwrapped)), pos, atol=2e-4)
    if boundary == "walls":
        np.testing.assert_allclose(unwrapped, pos, atol=2e-4)


def test_walled_trajectories_stay_inside():
    box = Box(1.0, 0.6, "walls")
    traj = simulate_trajectories(jax.random.key(0), box, 256, 500)
    assert box.contains(np.asarray(traj.positions), atol=1e-6).all()


def test_same_key_same_trajectories_and_different_keys_differ():
    box = Box()
    a = simulate_trajectories(jax.random.key(7), box, 8, 20)
    b = simulate_trajectories(jax.random.key(7), box, 8, 20)
    c = simulate_trajectories(jax.random.key(8), box, 8, 20)
    np.testing.assert_array_equal(np.asarray(a.positions), np.asarray(b.positions))
    assert not np.allclose(np.asarray(a.positions), np.asarray(c.positions))


def test_mean_speed_matches_rayleigh_mean_on_a_torus():
    motion = MotionModel()
    traj = simulate_trajectories(jax.random.key(1), Box(boundary="periodic"), 200, 200, motion)
    speed = float(np.mean(np.asarray(traj.speeds)))
    # Rayleigh(b) has mean b sqrt(pi/2) = 1.024 m/s; 40,000 samples give ~0.3% error
    assert speed == pytest.approx(motion.mean_speed, rel=0.02)


def test_walls_slow_the_agent_down():
    motion = MotionModel()
    traj = simulate_trajectories(jax.random.key(1), Box(0.5, 0.5), 200, 200, motion)
    assert float(np.mean(np.asarray(traj.speeds))) < 0.95 * motion.mean_speed


def test_shapes_and_units():
    traj = simulate_trajectories(jax.random.key(0), Box(), 5, 7)
    assert traj.velocities.shape == (5, 7, 2)
    assert traj.positions.shape == (5, 7, 2)
    assert traj.head_directions.shape == (5, 7)
    assert traj.start_positions.shape == (5, 2)
    assert traj.dt == 0.02
    hd = np.asarray(traj.head_directions)
    assert (hd >= -np.pi).all() and (hd < np.pi).all()


def test_motion_model_validation():
    with pytest.raises(ValueError, match="dt"):
        MotionModel(dt=0.0)
    with pytest.raises(ValueError, match="wall_slowdown"):
        MotionModel(wall_slowdown=1.5)


def test_speeds_are_always_finite_regression_key():
    # this key drew a uniform 0 inside jax.random.rayleigh and produced an infinite step
    from gridform.training import build_task, load_config

    task = build_task(load_config("demo"))
    traj = simulate_trajectories(jax.random.fold_in(task.data_key, 2225), task.box, 200, 20,
                                 task.motion)
    assert np.isfinite(np.asarray(traj.velocities)).all()
    assert np.isfinite(np.asarray(traj.positions)).all()
