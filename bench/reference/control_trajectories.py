"""Reference trajectories of Gymnasium's CartPole-v1 and Acrobot-v1 for the tests of
crates/nas-control: a fixed start state (values exact in float32), a fixed action
sequence, the internal state after every step. Run with a Python that has gymnasium
(`pip install gymnasium`); the test embeds what this prints.
"""
import gymnasium as gym
import numpy as np

print("gymnasium", gym.__version__)

def run(env_id, start, actions):
    env = gym.make(env_id)
    env.reset(seed=0)
    env.unwrapped.state = np.array(start, dtype=np.float64)
    print(f"# {env_id} start {start}")
    for t, a in enumerate(actions):
        obs, reward, terminated, truncated, _ = env.step(a)
        state = ", ".join(repr(float(v)) for v in env.unwrapped.state)
        print(f"({t + 1}, {a}, [{state}], {reward}, {str(terminated).lower()}),")
        if terminated:
            break

cartpole_actions = [1, 1, 0, 1, 0, 0, 1, 1, 1, 0] * 4
run("CartPole-v1", [0.03125, -0.015625, 0.046875, 0.0078125], cartpole_actions)
run("CartPole-v1", [0.0, 0.0, 0.0, 0.0], [1] * 60)
acrobot_actions = [2, 2, 0, 1, 2, 0, 0, 2, 1, 2] * 4
run("Acrobot-v1", [0.0625, -0.03125, 0.046875, -0.015625], acrobot_actions)
run("Acrobot-v1", [0.0, 0.0, 0.0, 0.0], [2] * 25 + [0] * 25 + [2] * 100)
run("Acrobot-v1", [3.0, 0.0, 1.0, 0.0], [1, 2])
